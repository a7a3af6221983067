"""``python -m notion_feedback.cli`` runs the command line."""

from notion_feedback.cli.app import main

main()
