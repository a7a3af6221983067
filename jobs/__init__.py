"""Scheduled jobs: one module per job, each a short function that composes library pieces.

The daemon refers to them by text (``"jobs.sync_ratings:run"``, see ``notion_feedback.daemon.scheduler.JOBS``), so each
job loads its own settings and returns a small dict of counts for the job log and `notion-feedback status`.
"""
