"""Settings of the matching service (`MENTORING_MATCHING_*`, plus the shared `MENTORING_*`)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.shared.config import ServiceSettings


class MatchingSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORING_MATCHING_", extra="ignore")

    service_name: str = "matching"
    grpc_port: int = 50052
    metrics_port: int = 9102
    # A proposal waits this long for both sides when the program does not set its own window.
    response_window_default_hours: int = Field(default=72, ge=1)
    # How often overdue proposals are expired in the background (they also expire when touched).
    expiry_sweep_seconds: float = Field(default=60.0, gt=0)
    # A manual match scoring below this share of the program's best possible score needs an override.
    manual_min_score_share: float = Field(default=0.2, ge=0, le=1)
    solver_time_limit_seconds: float = Field(default=20.0, gt=0)
    solver_workers: int = Field(default=2, ge=1)
    # Address space of the child process a solve runs in (MiB; 0: no cap). A 2,500 x 3,000 one-on-one
    # solve peaked at 410 MiB of address space (212 MiB resident); beyond the cap a run is refused with
    # RESOURCE_EXHAUSTED (no retry hint) instead of growing the service.
    solver_memory_limit_mib: int = Field(default=1024, ge=0)
    # Runs and previews solving at once (one per program at a time), and how many more may wait; beyond
    # that RunMatching / PreviewMatching answer RESOURCE_EXHAUSTED with a retry hint of at least
    # run_retry_after_seconds.
    run_concurrency: int = Field(default=2, ge=1)
    run_queue: int = Field(default=4, ge=0)
    run_retry_after_seconds: float = Field(default=1.0, gt=0)
