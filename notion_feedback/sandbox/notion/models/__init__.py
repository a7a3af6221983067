"""The Notion workspace model: the store and the objects it holds, with their rules."""
