"""Crypto-shredding: one key per person, kept in the service's database, deleted when the person is
erased. What we cannot delete ourselves (a dead letter on a Kafka topic, kept until its retention) is
stored encrypted under the person's key, so that once the key is gone every copy is unreadable.

The cipher is AES-256-GCM from the ``cryptography`` package (authenticated: a wrong key or a changed
byte fails, it never decrypts to garbage). A sealed field is ``nonce (12 bytes) || ciphertext || tag``;
its associated data names the person and the field, so a sealed value cannot be moved to another person
or field unnoticed.

The ``personal_keys`` table is created by the migration chain of a service that uses it (enrollment:
``enrollment_0002``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, LargeBinary, MetaData, PrimaryKeyConstraint, String, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.shared.db import UtcDateTime, rows_affected

KEY_BYTES: Final = 32
NONCE_BYTES: Final = 12
# What sealing adds to each field: the nonce and the 16-byte tag.
SEAL_OVERHEAD_BYTES: Final = NONCE_BYTES + 16
CIPHER: Final = "aes-256-gcm.v1"

keys_metadata = MetaData()

personal_keys = Table(
    "personal_keys",
    keys_metadata,
    Column("tenant", String(128), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("key", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint("tenant", "subject"),
)


class Unreadable(Exception):
    """A sealed field whose key is gone (the person was erased) or does not match."""


def new_key() -> bytes:
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def seal(key: bytes, plaintext: bytes, associated: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def unseal(key: bytes, sealed: bytes, associated: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], associated)
    except (InvalidTag, ValueError) as exc:
        raise Unreadable("the field does not open with this key") from exc


async def key_of(session: AsyncSession, tenant: str, subject: str) -> bytes | None:
    """The person's key, or None: never had one, or erased."""
    row = await session.execute(
        select(personal_keys.c.key).where(
            personal_keys.c.tenant == tenant, personal_keys.c.subject == subject
        )
    )
    found = row.scalar_one_or_none()
    return None if found is None else bytes(found)


async def key_for_sealing(session: AsyncSession, tenant: str, subject: str) -> bytes:
    """The person's key, made and stored on first use (a concurrent first use keeps the first)."""
    existing = await key_of(session, tenant, subject)
    if existing is not None:
        return existing
    values = {"tenant": tenant, "subject": subject, "key": new_key(), "created_at": datetime.now(UTC)}
    dialect = session.bind.dialect.name
    if dialect == "postgresql":
        await session.execute(postgresql.insert(personal_keys).values(values).on_conflict_do_nothing())
    else:
        await session.execute(sqlite.insert(personal_keys).values(values).on_conflict_do_nothing())
    stored = await key_of(session, tenant, subject)
    assert stored is not None
    return stored


async def shred(session: AsyncSession, tenant: str, subjects: Iterable[str]) -> int:
    """Delete these people's keys (an erasure): what was sealed under them can no longer be read."""
    wanted = sorted(set(subjects))
    if not wanted:
        return 0
    return rows_affected(
        await session.execute(
            delete(personal_keys).where(personal_keys.c.tenant == tenant, personal_keys.c.subject.in_(wanted))
        )
    )
