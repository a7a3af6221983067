"""Every knob of the product, once. Read from the environment and ``.env``; documented in ``.env.example``.

Service credentials keep the names their own SDKs use (``NOTION_TOKEN``, ``LANGSMITH_API_KEY``, ...); the
product's own settings carry the ``NOTION_FEEDBACK_`` prefix. A bad value stops the program at start with the
variable's name and how to fix it, never later in the middle of a sync.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from notion_feedback.errors import ConfigError
from notion_feedback.notion.ids import parse_notion_id

NotionApiVersion = Literal["2025-09-03", "2026-03-11"]
"""The Notion API versions the product speaks (the data-source model began with 2025-09-03)."""

ENV_PREFIX = "NOTION_FEEDBACK_"
DEFAULT_NOTION_BASE_URL = "https://api.notion.com"
DEFAULT_LANGSMITH_ENDPOINT = "https://api.smith.langchain.com"


class Settings(BaseSettings):
    """All settings. Field ``x`` is read from ``NOTION_FEEDBACK_X`` unless an alias says otherwise."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        use_attribute_docstrings=True,
        env_ignore_empty=True,
    )

    # -- the two services -------------------------------------------------------------------------------
    notion_token: SecretStr | None = Field(None, validation_alias=AliasChoices("NOTION_TOKEN", "notion_token"))
    """Internal integration secret (Notion → Settings → Connections → Develop or manage integrations)."""
    notion_base_url: str = Field(
        DEFAULT_NOTION_BASE_URL, validation_alias=AliasChoices("NOTION_BASE_URL", "notion_base_url")
    )
    """Notion API root; the sandbox prints its own (http://127.0.0.1:PORT)."""
    notion_api_version: NotionApiVersion = "2025-09-03"
    """The Notion-Version every request sends. 2026-03-11, the newest, drops archived from objects (in_trash
    stays); the product reads either, so moving to it is this one setting."""
    langsmith_api_key: SecretStr | None = Field(
        None, validation_alias=AliasChoices("LANGSMITH_API_KEY", "langsmith_api_key")
    )
    """LangSmith API key (Settings → API Keys), sent as x-api-key."""
    langsmith_endpoint: str = Field(
        DEFAULT_LANGSMITH_ENDPOINT, validation_alias=AliasChoices("LANGSMITH_ENDPOINT", "langsmith_endpoint")
    )
    """LangSmith API root (EU: https://eu.api.smith.langchain.com; self-hosted: your URL)."""
    langsmith_project: str = Field("default", validation_alias=AliasChoices("LANGSMITH_PROJECT", "langsmith_project"))
    """The LangSmith project (session) your agent traces into."""
    langsmith_workspace_id: str | None = Field(
        None, validation_alias=AliasChoices("LANGSMITH_WORKSPACE_ID", "langsmith_workspace_id")
    )
    """The LangSmith workspace, for a key that reaches several; empty: the key's own."""
    langsmith_web_url: str | None = Field(None, validation_alias=AliasChoices("LANGSMITH_WEB_URL", "langsmith_web_url"))
    """The LangSmith app's address, for trace links on rows; empty: derived from the endpoint (the sandbox prints
    its viewer's)."""
    langsmith_tracing: bool | None = Field(
        None, validation_alias=AliasChoices("LANGSMITH_TRACING", "langsmith_tracing")
    )
    """Trace interactions to LangSmith; empty: on whenever LANGSMITH_API_KEY is set."""

    # -- the workspace (written by `notion-feedback init`) -------------------------------------------------
    parent_page_id: str | None = None
    """The Notion page the product's databases live under (set by init)."""
    feedback_data_source_id: str | None = None
    """The Feedback data source: one row per recorded interaction (printed by init)."""
    reports_data_source_id: str | None = None
    """The Reports data source: one row per published report (printed by init)."""
    property_map: dict[str, str] = Field(default_factory=dict)
    """Renamed Notion properties, as JSON: {"Rating": "Score"} means our Rating lives in your "Score"."""

    # -- ratings ----------------------------------------------------------------------------------------
    rating_scale: Literal["1-5", "1-10", "thumbs"] = "1-5"
    """Rating options offered in Notion: 1-5, 1-10 or thumbs (👍 = 1, 👎 = 0)."""
    rating_key: str = "user_rating"
    """The LangSmith feedback key that ratings are written under."""
    extend_trace_retention: bool = True
    """Feedback upgrades a trace to extended (400 d) retention in LangSmith, about $0.0045 more per rated trace.
    False keeps base (14 d) retention; the feedback then disappears with the trace."""

    # -- budgets and limits -----------------------------------------------------------------------------
    notion_requests_per_second: float = Field(2.5, gt=0)
    """Shared by everything this process sends to Notion (Notion allows about 3/s per integration)."""
    notion_burst: int = Field(3, ge=1)
    """Requests that may leave at once before the average rate applies."""
    recorder_requests_per_second: float = Field(1.0, gt=0)
    """The agent-side recorder's own budget, within the shared Notion budget."""
    langsmith_requests_per_second: float = Field(100.0, gt=0)
    """Cap on everything this process sends to LangSmith (cloud: 1000 per 10 s per key); endpoints with lower
    documented limits (feedback, runs query, run reads) get their own budget within it."""
    langsmith_stats_per_10s: float = Field(1.0, gt=0)
    """/runs/stats calls per 10 s (reports): LangSmith Cloud US allows 1, EU 20; self-hosted as configured."""
    request_timeout_seconds: float = Field(30.0, gt=0, le=300)
    """Per-request timeout towards both services."""

    # -- capture ----------------------------------------------------------------------------------------
    sample_rate: float = Field(1.0, ge=0.0, le=1.0)
    """Share of interactions that become rows in Notion (all are traced)."""
    redact: bool = True
    """Mask e-mail addresses, phone numbers and key-like strings before text leaves the process."""
    redact_patterns: list[str] = Field(default_factory=list)
    """Extra regular expressions (JSON list) whose matches are masked before text leaves the process."""
    redact_hook: str | None = None
    """Your own redaction function, "package.module:function" (text in, text out), applied after the rules above
    by the recorder and by the learning job (which copies runs into datasets). A hook passed to Recorder() wins."""
    recorder_queue_size: int = Field(10_000, ge=1)
    """Rows waiting in memory (their text and a few numbers) before a background thread writes them to the spool on
    disk; beyond it, or beyond NOTION_FEEDBACK_RECORDER_QUEUE_MB of text, record() writes to the spool itself."""
    recorder_queue_mb: float = Field(32.0, gt=0)
    """Text, in millions of characters, that rows waiting in memory may hold (bounds the recorder's memory)."""
    recorder_max_unsaved_seconds: float = Field(1.0, gt=0, le=60)
    """Longest a recorded row waits in memory before it is on disk, where a crash of the agent cannot lose it. The
    recorder keeps in memory only what its background thread writes in half this time; beyond it (a burst faster than
    the disk), record() writes the row to the spool itself (~100 µs instead of ~10 µs)."""
    recorder_flush_seconds: float = Field(10.0, gt=0)
    """How long flush()/close() and the exit hook wait for queued rows."""
    recorder_backoff_seconds: float = Field(1.0, gt=0, le=60)
    """First wait after a failed row write; doubles on each failure up to 64 times this."""
    recorder_sender: Literal["process", "thread"] = "process"
    """Who sends recorded rows to Notion: "process", a child process, so its HTTP and JSON work never takes the agent's
    GIL or CPU; "thread", a thread of the agent's process, for hosts that cannot start processes (that work then
    shares the agent's GIL and CPU; bench/bench_record.py measures both)."""

    # -- state and scheduling ---------------------------------------------------------------------------
    home: Path = Path(".notion-feedback")
    """Where local state lives: the state database, the recorder's spool, rendered charts."""
    state_url: SecretStr | None = None
    """SQLAlchemy URL of the state store; default: a SQLite file under NOTION_FEEDBACK_HOME."""
    sync_interval_minutes: float = Field(5.0, gt=0)
    """How often the daemon syncs ratings to LangSmith."""
    verify_every_hours: float = Field(1.0, gt=0)
    """How often the daemon verifies: a full read of the Feedback rows compared with LangSmith's feedback, which
    removes the feedback of rows that were trashed or deleted and repairs anything changed behind the sync's back.
    It costs about 100 Notion and 100 LangSmith requests per 10,000 rows (~35 s of Notion's 3 requests/s)."""
    sync_lookback_minutes: int = Field(2, ge=1, le=60)
    """Overlap of each incremental read (Notion rounds last_edited_time down to the minute)."""
    sync_status_writeback: Literal["errors", "all"] = "errors"
    """"errors": Sync status is written only to show a problem and to clear it once fixed; "all": every synced
    rating is marked "Synced" too, which costs one more Notion request per rating."""
    timezone: str = "UTC"
    """IANA time zone of report days and the daemon's schedule."""
    report_time: str = "07:00"
    """Local time (in NOTION_FEEDBACK_TIMEZONE) of the daily report, HH:MM."""
    misfire_grace_seconds: int = Field(3600, ge=1)
    """A job that missed its time (daemon down) still runs if it is at most this late."""
    lease_seconds: int = Field(60, ge=5)
    """When several daemons start, one holds the lease; another takes over this long after it dies."""

    # -- learning from ratings --------------------------------------------------------------------------
    learn: bool = True
    """Keep the two LangSmith datasets (low- and high-rated runs) and the review queue in step with the ratings."""
    learn_every_minutes: float = Field(60.0, gt=0)
    """How often the daemon brings the datasets and the review queue up to date."""
    learn_low_rating: float | None = None
    """Ratings at or below this are low (dataset and review queue); empty: 2 on 1-5, 4 on 1-10, 👎 on thumbs."""
    learn_high_rating: float | None = None
    """Ratings at or above this are high (the examples the agent learns from); empty: 5 on 1-5, 9 on 1-10, 👍."""
    learn_low_dataset: str | None = None
    """The low-rated dataset's name in LangSmith; empty: "<LANGSMITH_PROJECT> · low-rated"."""
    learn_high_dataset: str | None = None
    """The high-rated dataset's name in LangSmith; empty: "<LANGSMITH_PROJECT> · high-rated"."""
    review_queue: str | None = None
    """The LangSmith annotation queue low-rated runs with a comment go to; empty: "<LANGSMITH_PROJECT> · review"."""

    # -- report targets (the product's service goals) --------------------------------------------------
    target_latency_avg_ms: float = 2000.0
    """Target: average response time in milliseconds."""
    target_tokens_per_interaction: float = 1000.0
    """Target: tokens per interaction."""
    target_cost_per_interaction_usd: float = 0.01
    """Target: cost per interaction in US dollars."""
    target_success_rate: float = 0.95
    """Target: share of interactions without error."""
    target_satisfaction: float = 4.5
    """Target: average rating (on a 1-5 scale; scaled for other scales)."""
    target_error_rate: float = 0.01
    """Target: share of interactions that failed."""
    report_template: Path | None = None
    """A Jinja2 template of your own for the report page; default: the shipped templates/report.md.j2."""
    monthly_budget_usd: float | None = Field(None, gt=0)
    """Monthly LLM budget in US dollars: the report's cost forecast says whether the month stays within it."""
    alert_webhook_url: SecretStr | None = None
    """Where alert notices are POSTed as {"text": ...} (a Slack incoming webhook or any endpoint); empty: Notion
    comments on the report page only."""

    # -- logging ----------------------------------------------------------------------------------------
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    """Log verbosity."""
    log_format: Literal["text", "json"] = "text"
    """text for people, json for log collectors (one object per line)."""

    @field_validator("notion_base_url", "langsmith_endpoint", "langsmith_web_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("parent_page_id", "feedback_data_source_id", "reports_data_source_id", mode="before")
    @classmethod
    def _notion_id(cls, value: object) -> object:
        """An id in any form Notion shows (URL, dashed, undashed), kept in the canonical dashed form."""
        if not isinstance(value, str) or not value.strip():
            return None if isinstance(value, str) else value
        try:
            return parse_notion_id(value)
        except ConfigError as exc:
            raise ValueError(f"{exc.message}; {exc.fix}") from None

    @field_validator("report_time")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        hours, _, minutes = value.partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError("must be a time of day as HH:MM, e.g. 07:00")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("must be an IANA time zone name such as UTC or Europe/Paris") from exc
        return value

    @field_validator("property_map", mode="before")
    @classmethod
    def _json_map(cls, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @cached_property
    def resolved_state_url(self) -> str:
        url = _plain(self.state_url)  # plain when set by model_copy, which does not validate
        return url or f"sqlite:///{self.home / 'state.sqlite3'}"

    def dataset_name(self, kind: str) -> str:
        """The LangSmith dataset of ``kind`` ("low" or "high"): the setting, or "<project> · low-rated"."""
        chosen = self.learn_low_dataset if kind == "low" else self.learn_high_dataset
        return chosen or f"{self.langsmith_project} · {kind}-rated"

    @property
    def review_queue_name(self) -> str:
        """The review queue's name: the setting, or "<project> · review"."""
        return self.review_queue or f"{self.langsmith_project} · review"

    def secrets(self) -> list[str]:
        """The secret values, so output can be masked even where a secret slipped into a message."""
        values = [
            s.get_secret_value() for s in (self.notion_token, self.langsmith_api_key, self.alert_webhook_url) if s
        ]
        return values + _url_passwords(_plain(self.state_url))


def _plain(value: SecretStr | str | None) -> str | None:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _url_passwords(url: str | None) -> list[str]:
    """The password inside a database URL (so it is masked even where the URL slipped into a message)."""
    if not url:
        return []
    try:
        password = make_url(url).password
    except Exception:  # noqa: BLE001 - a URL SQLAlchemy cannot parse fails later, with its own message
        return []
    return [str(password)] if password else []


def env_name(field: str) -> str:
    """The environment variable a field is read from (for messages that tell the user what to set)."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return ENV_PREFIX + field.upper()


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``.env``, or a ``ConfigError`` naming each bad variable and its fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            name = env_name(field) if field in Settings.model_fields else field
            message = str(err["msg"]).removeprefix("Value error, ")
            lines.append(f"{name}: {message} (got {err.get('input')!r})")
        raise ConfigError(
            "invalid settings:\n  " + "\n  ".join(lines),
            "correct the variables above in your environment or .env (see .env.example for each one)",
        ) from None


def require(settings: Settings, *fields: str) -> None:
    """Fail early with what to set, before a command makes its first request."""
    missing = [f for f in fields if getattr(settings, f) in (None, "")]
    if missing:
        names = ", ".join(env_name(f) for f in missing)
        hint = "run `notion-feedback init --parent <page>` to create the workspace and print them"
        if any(f in ("notion_token", "langsmith_api_key") for f in missing):
            hint = (
                "set them in your environment or .env (see .env.example; docs/setup.md says where to get each). "
                "To try the product first without accounts, run `notion-feedback demo`"
            )
        raise ConfigError(f"missing settings: {names}", hint)
