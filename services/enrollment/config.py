"""Settings of the enrollment service (`MENTORING_ENROLLMENT_*`, plus the shared `MENTORING_*`)."""

from pydantic_settings import SettingsConfigDict

from services.shared.config import ServiceSettings


class EnrollmentSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORING_ENROLLMENT_", extra="ignore")

    service_name: str = "enrollment"
    grpc_port: int = 50051
    metrics_port: int = 9101
    # The HRIS topic is read in whole fetches: bigger batches spread each transaction's fixed cost.
    consumer_batch_size: int = 5000
