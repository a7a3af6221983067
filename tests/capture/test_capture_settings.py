"""The tracer takes its LangSmith from Settings: with credentials only in ``.env`` traces and rows agree."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import langsmith
from test_recorder_basic import rows

from notion_feedback.notion.text import plain_text
from notion_feedback.setup.workspace import init_workspace

_AGENT = textwrap.dedent(
    """
    from notion_feedback.capture import Recorder, interaction
    from notion_feedback.config import load_settings

    recorder = Recorder(load_settings())
    with interaction("support-agent", variant="A", model="gpt-4o-mini") as it:
        it.llm("gpt-4o-mini", input_tokens=12, output_tokens=3).end({"answer": "hi"})
        it.end({"answer": "hi"})
    recorder.record(it, question="hello?", answer="hi")
    assert recorder.close(timeout=30)
    """
)


def test_env_file_only_traces_and_rows_name_the_same_run(settings, sandbox, tmp_path) -> None:
    ids = init_workspace(settings, settings.parent_page_id, langsmith=False)
    env = sandbox.env()
    agent_dir = tmp_path / "agent"
    agent_dir.mkdir()
    (agent_dir / ".env").write_text(
        f"NOTION_TOKEN={env['NOTION_TOKEN']}\nNOTION_BASE_URL={env['NOTION_BASE_URL']}\n"
        f"LANGSMITH_API_KEY={env['LANGSMITH_API_KEY']}\nLANGSMITH_ENDPOINT={env['LANGSMITH_ENDPOINT']}\n"
        f"LANGSMITH_PROJECT=env-file-agent\nNOTION_FEEDBACK_FEEDBACK_DATA_SOURCE_ID={ids.feedback_data_source_id}\n"
        f"NOTION_FEEDBACK_HOME={agent_dir / 'home'}\nNOTION_FEEDBACK_RECORDER_SENDER=thread\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("LANGSMITH_", "LANGCHAIN_", "NOTION"))}
    (agent_dir / "agent.py").write_text(_AGENT)
    done = subprocess.run([sys.executable, "agent.py"], cwd=agent_dir, env=clean, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    ws = settings.model_copy(update={"feedback_data_source_id": ids.feedback_data_source_id})
    (row,) = rows(ws)
    props = row["properties"]
    run_id = plain_text(props["Run ID"]["rich_text"])
    project_id = plain_text(props["Project ID"]["rich_text"])
    client = langsmith.Client(api_url=env["LANGSMITH_ENDPOINT"], api_key=env["LANGSMITH_API_KEY"])
    run = client.read_run(run_id)  # the run the row names exists in the sandbox's LangSmith ...
    project = client.read_project(project_name="env-file-agent")
    assert str(run.session_id) == project_id == str(project.id)  # ... in the project the row names
    assert f"/projects/p/{project_id}/r/{run_id}" in props["Trace"]["url"]  # and the trace link says so too
