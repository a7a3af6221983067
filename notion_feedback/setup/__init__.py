"""Set-up: ``init`` makes the Notion data sources and the LangSmith feedback config; ``doctor`` checks them all,
each problem with its fix."""
