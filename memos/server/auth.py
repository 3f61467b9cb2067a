"""Who is calling: an API key (or the local token of `serve.json`) names one user.

The user comes from the key, never from a parameter; every call then runs on
`mos.as_user(user)`, so grants and visibility apply exactly as in the embedded SDK. The
key's scope caps what it may do on top of that: a read key cannot write even where its
user could.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from memos.errors import PermissionDeniedError
from memos.models import Permission
from memos.mos import MemOS
from memos.server.errors import AuthenticationError
from memos.server.recent import Recent
from memos.stores.keys import ApiKey
from memos.timeutil import utcnow

LOCAL_KEY_ID = "local"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: the user, the scope of the key, and the key's id."""

    user: str
    scope: Permission
    key_id: str

    def require(self, needed: Permission) -> None:
        """Raises: PermissionDeniedError: the key's scope does not reach `needed`."""
        if not self.scope.allows(needed):
            raise PermissionDeniedError(
                f"this API key ({self.key_id}) has {self.scope.value} scope; the operation "
                f"needs {needed.value}: create a key with `memos keys create {self.user} "
                f"--scope {needed.value}`"
            )


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def presented_key(headers: Mapping[str, str]) -> str | None:
    """The key in `Authorization: Bearer KEY` or `X-API-Key: KEY`, if any."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    api_key = headers.get("x-api-key")
    return api_key.strip() if api_key and api_key.strip() else None


class Authenticator:
    """Turns the key of a request into a `Principal`.

    `local_token` (from `serve.json`) authenticates as `local_user` with admin scope, and
    only from a loopback address: it lets the CLI of the same machine reuse the server.
    A key that passed `check_key` is trusted for `cache_s` seconds (see
    `memos.server.recent`), by the digest of the whole key so a hit still needs the
    secret; its expiry is checked on every call against `clock`.
    """

    def __init__(
        self,
        check_key: Callable[[str], ApiKey],
        *,
        local_token: str | None = None,
        local_user: str | None = None,
        cache_s: float = 0.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._check_key = check_key
        self._local_token = local_token
        self._local_user = local_user
        self._checked: Recent[bytes, ApiKey] = Recent(cache_s)
        self._clock = clock

    @classmethod
    def for_memos(cls, mos: MemOS, *, local_token: str | None = None) -> Authenticator:
        """Keys from the database `mos` opened; the local token acts as `mos.user`."""
        store = mos.kernel.store
        return cls(
            store.authenticate_api_key,
            local_token=local_token,
            local_user=mos.user,
            cache_s=mos.settings.server_cache_s,
            clock=store.clock,
        )

    def principal(self, headers: Mapping[str, str], client_host: str | None) -> Principal:
        """Raises: AuthenticationError: no key, or one that is not valid now."""
        key = presented_key(headers)
        if key is None:
            raise AuthenticationError(
                "no API key: send `Authorization: Bearer KEY` or `X-API-Key: KEY` "
                "(create one with `memos keys create USER`)"
            )
        token, user = self._local_token, self._local_user
        if (
            token is not None
            and user is not None
            and hmac.compare_digest(key.encode(), token.encode())
        ):
            if not is_loopback(client_host):
                raise AuthenticationError("the local token is accepted from this machine only")
            return Principal(user=user, scope=Permission.ADMIN, key_id=LOCAL_KEY_ID)
        digest = hashlib.sha256(key.encode()).digest()
        found = self._checked.get(digest)
        if found is None or found.state(self._clock()) != "active":
            try:
                found = self._check_key(key)
            except PermissionDeniedError as exc:
                raise AuthenticationError(str(exc)) from None
            self._checked.put(digest, found)
        return Principal(user=found.user, scope=found.scope, key_id=found.id)
