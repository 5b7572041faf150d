"""Settings of the session service (`MENTORING_SESSION_*`, plus the shared `MENTORING_*`)."""

from pydantic_settings import SettingsConfigDict

from services.shared.config import ServiceSettings


class SessionSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORING_SESSION_", extra="ignore")

    service_name: str = "session"
    grpc_port: int = 50053
    metrics_port: int = 9103
    # How often the health of every live relationship is assessed (MENTORING_SESSION_HEALTH_EVERY_SECONDS).
    health_every_seconds: float = 3600.0
