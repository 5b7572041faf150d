"""One-click unsubscribe tokens (RFC 8058): a link that mutes one template for one person, signed so
that nobody can mute another person's messages by editing the link.

The token is ``<payload>.<signature>``, both base64url without padding: the payload is
``tenant/recipient/template`` (opaque ids and a template code, no name or address), the signature its
HMAC-SHA256 under the service's secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass

from services.notification.domain.templates import Template
from services.shared.errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class Unsubscription:
    tenant: str
    recipient_id: str
    template: Template


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: bytes, payload: bytes) -> bytes:
    return hmac.new(secret, payload, hashlib.sha256).digest()


def unsubscribe_token(secret: bytes, wanted: Unsubscription) -> str:
    payload = f"{wanted.tenant}/{wanted.recipient_id}/{wanted.template.value}".encode()
    return f"{_b64(payload)}.{_b64(_signature(secret, payload))}"


def read_unsubscribe_token(secret: bytes, token: str) -> Unsubscription:
    """What a token this service issued asks for; anything else is INVALID_ARGUMENT."""
    refused = InvalidArgument("token", "is not an unsubscribe link this service issued")
    encoded, _, signature = token.strip().partition(".")
    try:
        payload, given = _unb64(encoded), _unb64(signature)
    except ValueError:
        raise refused from None
    if not hmac.compare_digest(given, _signature(secret, payload)):
        raise refused
    try:
        tenant, recipient_id, template = payload.decode().split("/")
        return Unsubscription(tenant, recipient_id, Template(template))
    except ValueError:
        raise refused from None
