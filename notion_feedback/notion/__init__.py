"""Everything that speaks Notion."""
