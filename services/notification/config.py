"""Settings of the notification service (`MENTORING_NOTIFICATION_*`, plus the shared `MENTORING_*`)."""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from services.shared.config import ServiceSettings


class NotificationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MENTORING_NOTIFICATION_", extra="ignore")

    service_name: str = "notification"
    grpc_port: int = 50054
    metrics_port: int = 9104
    # host:port of the enrollment service's gRPC API for the e-mail channel's contact look-up; empty
    # means no look-up, and every e-mail then fails with reason contact_lookup_unavailable.
    enrollment_grpc_target: str = ""
    # The service's own client for that look-up (client-credentials grant at MENTORING_AUTH_ISSUER; its
    # service account needs the contact_lookup role). The defaults are the client of the local development
    # realm that `make run` and the tests embed (deploy/keycloak); a deployment sets its own
    # MENTORING_NOTIFICATION_AUTH_CLIENT_ID / MENTORING_NOTIFICATION_AUTH_CLIENT_SECRET.
    auth_client_id: str = "notification-service"
    auth_client_secret: SecretStr = SecretStr("notification-service-secret")
    contact_lookup_timeout_seconds: float = Field(default=2.0, gt=0)
    # Whether a recipient who never set preferences gets e-mail too (in-app is always on by default).
    email_by_default: bool = True
    # The e-mail channel's adapter: .eml files in this directory (empty: <data_dir>/mailbox).
    mailbox_dir: Path | None = None
    email_from: str = "Mentoring <mentoring-noreply@example.invalid>"
    email_max_attempts: int = Field(default=5, ge=1)
    email_retry_base_seconds: float = Field(default=2.0, gt=0)
    email_poll_seconds: float = Field(default=0.5, gt=0)
    email_batch_size: int = Field(default=100, ge=1)

    @property
    def effective_mailbox_dir(self) -> Path:
        return self.mailbox_dir or self.data_dir / "mailbox"
