"""Settings every service reads from its environment (prefix ``MENTORING_``), with embedded defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.shared.topics import AUDIT_RETENTION_DAYS

REPO_ROOT = Path(__file__).resolve().parents[2]


def _shared(name: str) -> AliasChoices:
    """Settings every service reads from one variable (MENTORING_<NAME>), whatever its own prefix."""
    return AliasChoices(f"MENTORING_{name}")


class ServiceSettings(BaseSettings):
    """Runtime settings of a service. Each service subclasses it with its defaults and its own prefix
    (``MENTORING_<SERVICE>_``, e.g. ``MENTORING_MATCHING_GRPC_PORT``); the Kafka bootstrap, data
    directory and logging are read from ``MENTORING_*`` by all four."""

    model_config = SettingsConfigDict(env_prefix="MENTORING_", extra="ignore")

    service_name: str = "service"
    kafka_bootstrap: str = Field(default="127.0.0.1:9092", validation_alias=_shared("KAFKA_BOOTSTRAP"))
    data_dir: Path = Field(default=REPO_ROOT / ".var" / "data", validation_alias=_shared("DATA_DIR"))
    # Prefix of every physical topic and consumer group: several environments (or test runs) can share
    # one cluster without seeing each other's records.
    topic_namespace: str = Field(default="", validation_alias=_shared("TOPIC_NAMESPACE"))
    topic_replication_factor: int = Field(
        default=1, ge=1, validation_alias=_shared("TOPIC_REPLICATION_FACTOR")
    )
    # A SQLAlchemy async URL (e.g. postgresql+asyncpg://...); empty means a SQLite file under data_dir.
    database_url: str = ""
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 0
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    grpc_max_message_bytes: int = 16 * 1024 * 1024
    grpc_shutdown_grace_seconds: float = 5.0
    shutdown_timeout_seconds: float = 20.0
    outbox_batch_size: int = Field(default=2000, ge=1)
    outbox_poll_seconds: float = Field(default=0.05, gt=0)
    consumer_batch_size: int = Field(default=500, ge=1)
    consumer_batch_seconds: float = Field(default=0.02, gt=0)
    # How soon the broker hands a crashed instance's partitions to another (Faust's own default is 60 s,
    # a minute of nothing consumed after a crash).
    consumer_session_timeout_seconds: float = Field(default=10.0, ge=6, le=300)
    consumer_max_retries: int = Field(default=5, ge=0)
    consumer_retry_base_seconds: float = Field(default=0.2, gt=0)
    # Published outbox rows are kept this long (to trace what left and when), then deleted; 0 keeps them.
    outbox_retention_hours: float = Field(default=7 * 24, ge=0)
    # Inbox ids are kept this long, then deleted; 0 keeps them. A consumer whose committed offsets
    # expired reads its topics again from the earliest record, so this must cover the longest retention
    # of a topic the service consumes (4 weeks by default): the runtime refuses to start otherwise.
    inbox_retention_hours: float = Field(default=35 * 24, ge=0)
    retention_interval_seconds: float = Field(default=600.0, gt=0)
    # The audit trail (services/shared/audit.py): records are kept this long in the audit_log table, then
    # deleted; 0 keeps them. A new audit.events.v1 topic is created with the same retention. Records
    # wait in a queue of audit_queue_size for the writer, stored audit_batch_size at once.
    audit_retention_days: float = Field(
        default=AUDIT_RETENTION_DAYS, ge=0, validation_alias=_shared("AUDIT_RETENTION_DAYS")
    )
    audit_queue_size: int = Field(default=10_000, ge=1)
    audit_batch_size: int = Field(default=500, ge=1)
    # Health follows whether the service can write to its database: a write transaction is tried every
    # health_probe_seconds, and health is NOT_SERVING while one fails or takes longer than
    # health_probe_timeout_seconds (e.g. the database is down, or its write lock is held elsewhere).
    health_probe_seconds: float = Field(default=2.0, gt=0)
    health_probe_timeout_seconds: float = Field(default=2.0, gt=0)
    # Identity: the OpenID Connect issuer every service trusts (the embedded Keycloak by default; any
    # issuer in production), the audience its access tokens must carry, and which claims name the tenant,
    # the employee, the roles and a calling service (a dotted name reads a nested claim, e.g.
    # realm_access.roles). Keys come from the issuer's discovery document and JWKS.
    auth_issuer: str = Field(
        default="http://127.0.0.1:18080/realms/mentoring", validation_alias=_shared("AUTH_ISSUER")
    )
    auth_audience: str = Field(default="mentoring-api", validation_alias=_shared("AUTH_AUDIENCE"))
    auth_algorithms: list[str] = Field(
        default=["RS256", "ES256"], validation_alias=_shared("AUTH_ALGORITHMS")
    )
    auth_leeway_seconds: float = Field(
        default=30.0, ge=0, le=300, validation_alias=_shared("AUTH_LEEWAY_SECONDS")
    )
    auth_tenant_claim: str = Field(default="tenant", validation_alias=_shared("AUTH_TENANT_CLAIM"))
    auth_employee_id_claim: str = Field(
        default="employee_id", validation_alias=_shared("AUTH_EMPLOYEE_ID_CLAIM")
    )
    auth_roles_claim: str = Field(default="roles", validation_alias=_shared("AUTH_ROLES_CLAIM"))
    auth_service_claim: str = Field(default="service", validation_alias=_shared("AUTH_SERVICE_CLAIM"))
    # The JWKS is read again after this long, and on an unknown key id at most once per min-refresh.
    auth_jwks_cache_seconds: float = Field(
        default=300.0, gt=0, validation_alias=_shared("AUTH_JWKS_CACHE_SECONDS")
    )
    auth_jwks_min_refresh_seconds: float = Field(
        default=10.0, ge=0, validation_alias=_shared("AUTH_JWKS_MIN_REFRESH_SECONDS")
    )
    auth_http_timeout_seconds: float = Field(
        default=5.0, gt=0, validation_alias=_shared("AUTH_HTTP_TIMEOUT_SECONDS")
    )
    # This service's own client (client credentials) for calls to other services, per service
    # (MENTORING_<SERVICE>_AUTH_CLIENT_ID / _SECRET); empty when it calls no one.
    auth_client_id: str = ""
    auth_client_secret: SecretStr = SecretStr("")
    # The key that signs page tokens (services/shared/paging.py); instances of one service share it.
    # Empty: a key drawn at start-up, so tokens end with the process.
    page_token_secret: SecretStr = Field(default=SecretStr(""), validation_alias=_shared("PAGE_TOKEN_SECRET"))
    log_level: str = Field(default="INFO", validation_alias=_shared("LOG_LEVEL"))
    log_json: bool = Field(default=True, validation_alias=_shared("LOG_JSON"))

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / f'{self.service_name}.db'}"
