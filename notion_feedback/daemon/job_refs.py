"""Job references written by earlier versions, rewritten in the persistent job store before the scheduler reads it.

Up to 0.1.0 the scheduled jobs were installed as a top-level ``jobs`` package and stored as ``"jobs.x:run"``.
They now live in ``notion_feedback.jobs``. APScheduler drops (and logs a traceback for) any stored job whose
reference no longer imports, which would lose the due time of a report that fell due while no daemon ran; so the
stored references are rewritten in place first, keeping each job's next run time.
"""

from __future__ import annotations

import logging
import pickle

from sqlalchemy import Engine, MetaData, Table, inspect, select, update

log = logging.getLogger(__name__)
OLD_PREFIX = "jobs."
NEW_PREFIX = "notion_feedback.jobs."


def upgraded_ref(ref: str) -> str:
    """``"jobs.sync_ratings:run"`` → ``"notion_feedback.jobs.sync_ratings:run"``; other references unchanged."""
    return NEW_PREFIX + ref[len(OLD_PREFIX) :] if ref.startswith(OLD_PREFIX) else ref


def migrate_job_refs(engine: Engine, tablename: str) -> int:
    """Rewrite old references in the APScheduler job store ``tablename``; returns how many jobs were rewritten.

    The stored state is the pickled dict of ``Job.__getstate__``: unpickling the dict imports only the trigger's
    classes, never the job's function, so an old reference can be read and fixed.
    """
    if not inspect(engine).has_table(tablename):
        return 0
    table = Table(tablename, MetaData(), autoload_with=engine)
    rewritten = 0
    with engine.begin() as conn:
        for job_id, blob in conn.execute(select(table.c.id, table.c.job_state)).all():
            state = pickle.loads(blob)  # noqa: S301 - the daemon's own state store, written by APScheduler
            ref = state.get("func")
            if not isinstance(ref, str) or upgraded_ref(ref) == ref:
                continue
            state["func"] = upgraded_ref(ref)
            conn.execute(
                update(table).where(table.c.id == job_id).values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
            )
            log.info("job %s: reference %s upgraded to %s", job_id, ref, state["func"])
            rewritten += 1
    return rewritten
