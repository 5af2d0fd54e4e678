"""Settings, read once from ``ZONGZHI_*`` environment variables.

Every variable is listed here with its default; the README's configuration table is generated from
``Settings.describe()`` so the two cannot drift (``tests/platform/test_settings.py`` checks it).
The defaults are the embedded mode: SQLite file, in-process events, a local evidence directory.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _embedded_secret(data_dir: Path) -> str:
    """The embedded mode's secret: made once, kept beside the SQLite file, readable only by its owner."""
    path = data_dir / "secret.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _setting(env: str, default: str, doc: str, parse=str):
    return field(default=parse(default), metadata={"env": env, "doc": doc, "parse": parse, "raw": default})


@dataclass(frozen=True)
class Settings:
    data_dir: Path = _setting(
        "ZONGZHI_DATA_DIR", "var", "Directory for the embedded SQLite file and local evidence.", Path
    )
    database_url: str = _setting(
        "ZONGZHI_DATABASE_URL",
        "",
        "Database URL. Empty: SQLite file `<data dir>/zongzhi.sqlite3`. Production: "
        "`postgres://user:pass@host:5432/zongzhi` (asyncpg); `?minsize=1&maxsize=5` (the defaults) sizes "
        "each process's connection pool.",
    )
    secret_key: str = _setting(
        "ZONGZHI_SECRET_KEY",
        "",
        "Signs JWTs and local evidence links; also the default PII key. Required with "
        "`ZONGZHI_DATABASE_URL`. Empty in the embedded mode: generated once into `<data dir>/secret.key`.",
    )
    pii_key: str = _setting(
        "ZONGZHI_PII_KEY",
        "",
        "Key material for encrypting ID and phone numbers at rest and for their lookup hashes. "
        "Empty: derived from the secret key. Changing it makes stored PII unreadable.",
    )
    audit_key: str = _setting(
        "ZONGZHI_AUDIT_KEY",
        "",
        "Key of the audit log's hash chain (HMAC-SHA256). Empty: derived from the secret key. Keep it "
        "out of the database: whoever holds it can rewrite the log undetected.",
    )
    jwt_ttl_minutes: int = _setting("ZONGZHI_JWT_TTL_MINUTES", "720", "Lifetime of issued JWTs.", int)
    event_mode: str = _setting(
        "ZONGZHI_EVENT_MODE",
        "inline",
        "`inline`: events are evaluated in-process after commit (embedded). `celery`: published to "
        "the broker for workers.",
    )
    broker_url: str = _setting(
        "ZONGZHI_BROKER_URL", "redis://127.0.0.1:6379/0", "Celery broker (Redis or RabbitMQ URL)."
    )
    worker_batch: int = _setting(
        "ZONGZHI_WORKER_BATCH",
        "100",
        "Outbox rows a worker task claims and evaluates in one transaction (the embedded mode "
        "evaluates an event and its consequences in one transaction too). `0`: one event per task, "
        "one transaction per action.",
        int,
    )
    redis_url: str = _setting(
        "ZONGZHI_REDIS_URL",
        "",
        "Redis for subscription broadcast between processes. Empty: in-process only (embedded).",
    )
    storage: str = _setting("ZONGZHI_STORAGE", "local", "Evidence store: `local` or `s3` (MinIO).")
    s3_endpoint: str = _setting("ZONGZHI_S3_ENDPOINT", "127.0.0.1:9000", "S3/MinIO endpoint, host:port.")
    s3_access_key: str = _setting("ZONGZHI_S3_ACCESS_KEY", "minioadmin", "S3 access key.")
    s3_secret_key: str = _setting("ZONGZHI_S3_SECRET_KEY", "minioadmin", "S3 secret key.")
    s3_bucket: str = _setting("ZONGZHI_S3_BUCKET", "zongzhi-evidence", "Bucket for evidence.")
    s3_region: str = _setting("ZONGZHI_S3_REGION", "us-east-1", "S3 region.")
    s3_secure: bool = _setting("ZONGZHI_S3_SECURE", "false", "Use TLS to reach the store.", _bool)
    evidence_max_bytes: int = _setting(
        "ZONGZHI_EVIDENCE_MAX_BYTES", str(200 * 1024 * 1024), "Largest evidence file accepted.", int
    )
    evidence_retention_days: int = _setting(
        "ZONGZHI_EVIDENCE_RETENTION_DAYS",
        "3650",
        "Object-lock retention for confirmed evidence where the store supports it (0: off).",
        int,
    )
    evidence_orphan_hours: int = _setting(
        "ZONGZHI_EVIDENCE_ORPHAN_HOURS", "24", "Unconfirmed uploads older than this are removed.", int
    )
    public_url: str = _setting(
        "ZONGZHI_PUBLIC_URL", "http://127.0.0.1:8000", "Base URL clients reach the API at (local links)."
    )
    page_size_max: int = _setting("ZONGZHI_PAGE_SIZE_MAX", "100", "Largest page a connection returns.", int)
    compiled_reads: bool = _setting(
        "ZONGZHI_COMPILED_READS",
        "true",
        "Answer the case list, `case` and `node` for a case with one compiled SQL statement "
        "(`zongzhi.platform.readpath`); `false`: every query through the resolvers.",
        _bool,
    )
    query_depth_max: int = _setting("ZONGZHI_QUERY_DEPTH_MAX", "10", "Deepest GraphQL query accepted.", int)
    query_tokens_max: int = _setting(
        "ZONGZHI_QUERY_TOKENS_MAX", "2000", "Most tokens in one GraphQL document.", int
    )
    query_aliases_max: int = _setting(
        "ZONGZHI_QUERY_ALIASES_MAX", "30", "Most aliases in one GraphQL document.", int
    )
    query_cost_max: int = _setting(
        "ZONGZHI_QUERY_COST_MAX",
        "20000",
        "Largest cost of one GraphQL operation, fragments expanded: 1 a field, times `first` (or the "
        "largest page) for lists; `report` 1000, `pdfBase64` 5000, statistics, hot spots and early "
        "warning 1000, `simulateRuleset` 2000. Refused before execution with `QUERY_TOO_COSTLY`.",
        int,
    )
    webhook_max_bytes: int = _setting(
        "ZONGZHI_WEBHOOK_MAX_BYTES",
        str(1024 * 1024),
        "Largest partner webhook body; a longer one is refused with 413 without being read further.",
        int,
    )
    deadline_warning_share: float = _setting(
        "ZONGZHI_DEADLINE_WARNING_SHARE",
        "0.8",
        "Share of a deadline's time after which `case.deadline_warning` is emitted.",
        float,
    )
    delivery_max_attempts: int = _setting(
        "ZONGZHI_DELIVERY_MAX_ATTEMPTS",
        "6",
        "Attempts at a partner callback before it is marked failed.",
        int,
    )
    delivery_backoff_seconds: float = _setting(
        "ZONGZHI_DELIVERY_BACKOFF_SECONDS",
        "10",
        "First retry delay of a partner callback; each further retry waits twice as long.",
        float,
    )
    webhook_window_seconds: int = _setting(
        "ZONGZHI_WEBHOOK_WINDOW_SECONDS",
        "300",
        "How old a signed partner request may be (replay window).",
        int,
    )
    disabled_plugins: tuple[str, ...] = _setting(
        "ZONGZHI_DISABLED_PLUGINS", "", "Comma-separated plugin names to leave unloaded.", _list
    )
    log_level: str = _setting("ZONGZHI_LOG_LEVEL", "INFO", "Logging level.")
    log_format: str = _setting(
        "ZONGZHI_LOG_FORMAT",
        "text",
        "`text` (for a terminal) or `json`: one JSON object per line, with the request id, operation, "
        "user id and outcome (README: Operating zongzhi).",
    )
    health_timeout_seconds: float = _setting(
        "ZONGZHI_HEALTH_TIMEOUT_SECONDS",
        "2",
        "Time each readiness check (and the scrape-time database figures) may take before it fails.",
        float,
    )
    metrics_token: str = _setting(
        "ZONGZHI_METRICS_TOKEN",
        "",
        "If set, `/metrics` needs `Authorization: Bearer <token>`. Empty: open (it holds no personal data; "
        "keep it off the public network).",
    )
    worker_metrics_port: int = _setting(
        "ZONGZHI_WORKER_METRICS_PORT",
        "0",
        "Port on which `zongzhi worker` serves its processes' Prometheus metrics (0: off).",
        int,
    )
    tracing: bool = _setting(
        "ZONGZHI_TRACING",
        "false",
        "OpenTelemetry tracing (needs `pip install 'zongzhi[otel]'`); exported over OTLP/HTTP as the "
        "standard `OTEL_EXPORTER_OTLP_*` variables say.",
        _bool,
    )
    sms_sender: str = _setting(
        "ZONGZHI_SMS_SENDER",
        "console",
        "Sends the citizens' one-time codes: `console` (logs them, embedded mode) or `module:Class`, a "
        "class with `async send(phone, text)` for a real SMS gateway (see README, A door for citizens).",
    )
    public_reports_per_phone_day: int = _setting(
        "ZONGZHI_PUBLIC_REPORTS_PER_PHONE_DAY", "5", "Citizen reports one phone may file in 24 hours.", int
    )
    public_requests_per_address_hour: int = _setting(
        "ZONGZHI_PUBLIC_REQUESTS_PER_ADDRESS_HOUR",
        "30",
        "Codes requested and reports filed from one client address in an hour (public door).",
        int,
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is not None:
                values[f.name] = f.metadata["parse"](raw)
        values.update(overrides)
        settings = cls(**values)
        if not settings.secret_key:
            if settings.database_url:
                raise ValueError(
                    "ZONGZHI_SECRET_KEY must be set when ZONGZHI_DATABASE_URL is (every process shares it)"
                )
            settings = replace(settings, secret_key=_embedded_secret(settings.data_dir))
        return settings

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, meaning) for every setting, in declaration order."""
        return [(f.metadata["env"], f.metadata["raw"], f.metadata["doc"]) for f in fields(cls)]

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite://{(self.data_dir / 'zongzhi.sqlite3').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.db_url.startswith("sqlite")

    @property
    def evidence_dir(self) -> Path:
        return self.data_dir / "evidence"
