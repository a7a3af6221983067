"""The workspace viewer: Notion-like pages over the emulators, for a person to read and rate rows."""
