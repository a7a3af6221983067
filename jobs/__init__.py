"""Scheduled jobs, installed as ``notion_feedback.jobs``: one module per job, each a short composing function.

The daemon refers to them by text (``"notion_feedback.jobs.sync_ratings:run"``), so each job loads its own
settings and returns a small dict of counts for the job log and `notion-feedback status`.

To add a job: write ``jobs/<name>.py`` with a ``run() -> dict[str, Any]`` that reads ``load_settings()`` afresh,
then add one ``JobSpec(id, "notion_feedback.jobs.<name>:run", trigger, quick_seconds)`` line to
``notion_feedback.daemon.scheduler.JOBS``. The id is what the job store, the job log and `status` know it by:
never rename it. The daemon resolves every reference at start, so a typo stops it with the fix.
"""
