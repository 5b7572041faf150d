"""The e-mail channel over SMTP, with aiosmtplib: one connection per message, STARTTLS or implicit TLS,
optional authentication, a timeout on every step.

How a failure is classified (what the dispatcher then does):

* the recipient refused with 5xx (unknown user, bad address): INVALID_EMAIL_ADDRESS, not retried;
* any other 5xx reply to the message: SMTP_REJECTED, not retried;
* a 4xx reply (greylisting, mailbox full, server busy): SMTP_DEFERRED, retried with back-off;
* no reply (connection refused or dropped, TLS handshake failed, timeout): SMTP_UNREACHABLE, retried;
* authentication refused, or STARTTLS/AUTH not offered: CHANNEL_UNAVAILABLE, retried (it is the
  deployment's settings, not the message, that are wrong, and an operator can fix them).

Only the reply code (or the error's class) is kept: a reply's text may quote the address."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path
from typing import Literal

import aiosmtplib

from services.notification.adapters.email_message import MESSAGE_ID_DOMAIN, EmailNotSent, mime_message
from services.notification.domain.email import EmailContent
from services.notification.domain.model import FailureReason

Security = Literal["starttls", "tls", "none"]
_NO_ANSWER = (aiosmtplib.SMTPConnectError, aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError)


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int = 587
    security: Security = "starttls"  # starttls: required upgrade; tls: implicit TLS (port 465)
    username: str = ""
    password: str = ""
    timeout_seconds: float = 10.0
    ca_file: Path | None = None  # trust this CA instead of the system's (a private relay)
    validate_certs: bool = True


def _tls_context(server: SmtpServer) -> ssl.SSLContext | None:
    if server.security == "none" or server.ca_file is None:
        return None
    return ssl.create_default_context(cafile=str(server.ca_file))


class SmtpChannel:
    def __init__(self, server: SmtpServer, sender: str, domain: str = MESSAGE_ID_DOMAIN) -> None:
        self._server = server
        self._sender = sender
        self._envelope_sender = parseaddr(sender)[1] or sender
        self._domain = domain
        self._tls = _tls_context(server)

    async def send(self, content: EmailContent) -> str:
        message = mime_message(content, self._sender, datetime.now(UTC), self._domain)  # flattened once
        server = self._server
        try:
            replies, _ = await aiosmtplib.send(
                message,
                sender=self._envelope_sender,
                recipients=[content.to_address],
                hostname=server.host,
                port=server.port,
                username=server.username or None,
                password=server.password or None,
                use_tls=server.security == "tls",
                start_tls=server.security == "starttls",
                timeout=server.timeout_seconds,
                validate_certs=server.validate_certs,
                tls_context=self._tls,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            code = refused.recipients[0].code if refused.recipients else 550
            raise _refused_recipient(code) from refused
        except aiosmtplib.SMTPAuthenticationError as error:
            raise EmailNotSent(FailureReason.CHANNEL_UNAVAILABLE, True, f"auth_{error.code}") from error
        except aiosmtplib.SMTPResponseException as error:
            raise _reply(error.code) from error
        except _NO_ANSWER as error:
            raise EmailNotSent(FailureReason.SMTP_UNREACHABLE, True, type(error).__name__) from error
        except aiosmtplib.SMTPException as error:
            raise EmailNotSent(FailureReason.CHANNEL_UNAVAILABLE, True, type(error).__name__) from error
        except (OSError, ssl.SSLError) as error:
            raise EmailNotSent(FailureReason.SMTP_UNREACHABLE, True, type(error).__name__) from error
        refusal = replies.get(content.to_address)
        if refusal is not None:  # refused, although the server took the message for no one else
            raise _refused_recipient(refusal.code)
        return "250"

    def forget(self, notification_ids: list[str]) -> None:
        """Nothing is kept here: what was sent has left the machine."""
        return None


def _refused_recipient(code: int) -> EmailNotSent:
    if code >= 500:
        return EmailNotSent(FailureReason.INVALID_EMAIL_ADDRESS, False, str(code))
    return EmailNotSent(FailureReason.SMTP_DEFERRED, True, str(code))


def _reply(code: int) -> EmailNotSent:
    if 500 <= code < 600:
        return EmailNotSent(FailureReason.SMTP_REJECTED, False, str(code))
    return EmailNotSent(FailureReason.SMTP_DEFERRED, True, str(code))
