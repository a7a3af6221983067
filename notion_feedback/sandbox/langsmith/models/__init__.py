"""The LangSmith model: columnar run store, documents, feedback, filters, queries and stats."""
