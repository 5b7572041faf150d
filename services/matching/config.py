"""Settings of the matching service: `MENTORING_MATCHING_*` variables, plus the shared `MENTORING_*` ones."""

from pydantic_settings import SettingsConfigDict

from services.shared.config import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORING_MATCHING_", extra="ignore")

    service_name: str = "matching"
    grpc_port: int = 50052
    metrics_port: int = 9102
