"""Settings of the notification service (`MENTORING_NOTIFICATION_*`, plus the shared `MENTORING_*`)."""

from pathlib import Path
from typing import Literal

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
    # The e-mail channel: SMTP when smtp_host is set; otherwise (the embedded `make run`) a local sink
    # that writes .eml files into mailbox_dir (empty: <data_dir>/mailbox).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    # starttls: the upgrade is required; tls: implicit TLS (usually port 465); none: plain (a local relay).
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    smtp_ca_file: Path | None = None
    smtp_validate_certs: bool = True
    mailbox_dir: Path | None = None
    email_from: str = "Mentoring <mentoring-noreply@example.invalid>"
    # The right-hand side of every Message-ID (<notification id@domain>).
    message_id_domain: str = "notification.mentoring.invalid"
    # The web app that e-mail links point to, and the secret one-click unsubscribe links are signed with.
    public_base_url: str = "https://mentoring.example.invalid"
    unsubscribe_secret: SecretStr = SecretStr("local-development-unsubscribe-secret")
    # The one-click unsubscribe endpoint (entrypoints/unsubscribe_http.py) listens here; 0: not served.
    unsubscribe_host: str = "127.0.0.1"
    unsubscribe_port: int = Field(default=0, ge=0, le=65535)
    email_max_attempts: int = Field(default=5, ge=1)
    email_retry_base_seconds: float = Field(default=2.0, gt=0)
    # E-mails of one batch sent at once (each on its own SMTP connection).
    email_concurrency: int = Field(default=8, ge=1)
    # The chat and webhook channel (Slack, Teams, Standard Webhooks): each call's timeout, retries with
    # back-off, and a circuit breaker per endpoint (opens after this many failures in a row, for the
    # cooldown). webhook_ca_file: trust this CA for endpoints (a private one) instead of the system's.
    webhook_timeout_seconds: float = Field(default=5.0, gt=0)
    webhook_max_attempts: int = Field(default=6, ge=1)
    webhook_retry_base_seconds: float = Field(default=2.0, gt=0)
    webhook_circuit_threshold: int = Field(default=5, ge=1)
    webhook_circuit_cooldown_seconds: float = Field(default=60.0, gt=0)
    webhook_concurrency: int = Field(default=16, ge=1)
    webhook_ca_file: Path | None = None
    # Reminders before each session, in hours before its start (durable; fired once).
    reminder_leads_hours: tuple[int, ...] = (24, 1)
    email_poll_seconds: float = Field(default=0.5, gt=0)
    email_batch_size: int = Field(default=100, ge=1)

    @property
    def effective_mailbox_dir(self) -> Path:
        return self.mailbox_dir or self.data_dir / "mailbox"
