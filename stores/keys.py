"""API keys of `memos serve`: who a caller is comes from a key, never from a parameter.

A key reads `memos_<id>_<secret>`. The id is public (`memos keys list` shows it, `revoke`
takes it) and finds the row; the secret is 256 random bits of which only the SHA-256 is
stored, compared in constant time. A hash without salt or stretching is enough for a
secret that random: there is nothing to guess. Each key maps to one user and carries a
scope (read, write or admin) that caps what it may do whatever that user's grants.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from memos.errors import NotFoundError, PermissionDeniedError
from memos.models import Permission, Record
from memos.stores.base import StoreBase
from memos.stores.engine import transaction
from memos.stores.schema import api_keys

KEY_PREFIX = "memos"
# A key's last use is written at most this often: a read must not become a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)
_DUMMY_HASH = hashlib.sha256(b"memos: no such key").hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey(Record):
    """A stored API key (never its secret)."""

    id: str
    user: str
    scope: Permission
    created_at: datetime
    label: str | None = None
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """'active', 'revoked' or 'expired'."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _key_from_row(row: Any) -> ApiKey:
    return ApiKey(
        id=row["id"],
        user=row["user"],
        scope=Permission(row["scope"]),
        created_at=row["created_at"],
        label=row["label"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def split_key(presented: str) -> tuple[str, str] | None:
    """The (id, secret) of a key as presented, or None when it is not shaped like one."""
    prefix, _, rest = presented.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != KEY_PREFIX or not key_id or not secret or len(presented) > 200:
        return None
    return key_id, secret


class KeyOps(StoreBase):
    """Creating, listing, revoking and checking API keys."""

    def create_api_key(
        self,
        user: str,
        scope: Permission,
        *,
        expires_at: datetime | None = None,
        label: str | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key for `user`: its record and the full key, which is never stored and
        cannot be shown again."""
        key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
        values = {
            "id": key_id,
            "user": user,
            "scope": Permission(scope).value,
            "secret_hash": _hash(secret),
            "label": label,
            "created_at": self.clock(),
            "expires_at": expires_at,
            "last_used_at": None,
            "revoked_at": None,
        }
        with transaction(self.engine, write=True) as conn:
            self._ensure_user(conn, user)
            conn.execute(insert(api_keys).values(**values))
        return _key_from_row(values), f"{KEY_PREFIX}_{key_id}_{secret}"

    def api_keys(self, user: str | None = None) -> list[ApiKey]:
        """Every key (of one user, if given), oldest first."""
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if user is not None:
            query = query.where(api_keys.c.user == user)
        with transaction(self.engine, write=False) as conn:
            return [_key_from_row(r) for r in conn.execute(query).mappings()]

    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key at once (idempotent).

        Raises:
            NotFoundError: no key has that id.
        """
        with transaction(self.engine, write=True) as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
            if row is None:
                raise NotFoundError(f"no API key with id {key_id!r}; `memos keys list` shows them")
            if row["revoked_at"] is None:
                conn.execute(
                    update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=self.clock())
                )
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().one()
        return _key_from_row(row)

    def authenticate_api_key(self, presented: str) -> ApiKey:
        """The key a caller presented, if it is valid now; records its use.

        Raises:
            PermissionDeniedError: unknown, malformed, revoked or expired. Why a key was
                refused is said only to a caller who holds its secret.
        """
        parts = split_key(presented)
        key_id, secret = parts if parts is not None else ("", presented)
        with transaction(self.engine, write=False) as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).mappings().first()
        stored = row["secret_hash"] if row is not None else _DUMMY_HASH
        matches = hmac.compare_digest(_hash(secret), stored)
        if row is None or not matches:
            raise PermissionDeniedError("invalid API key")
        key = _key_from_row(row)
        now = self.clock()
        state = key.state(now)
        if state != "active":
            raise PermissionDeniedError(
                f"API key {key.id} is {state}; create a new one with `memos keys create`"
            )
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            with transaction(self.engine, write=True) as conn:
                conn.execute(
                    update(api_keys).where(api_keys.c.id == key.id).values(last_used_at=now)
                )
        return key
