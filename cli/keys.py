"""`memos keys`: API keys of `memos serve` (create, list, revoke).

Whoever can open the database manages its keys, as with every other command here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from memos import validation
from memos.cli.state import state_of
from memos.errors import InvalidInputError
from memos.models import Permission
from memos.timeutil import parse_ttl

keys_app = typer.Typer(
    help="API keys of `memos serve`: create, list, revoke.", no_args_is_help=True
)


@keys_app.command("create")
def create(
    ctx: typer.Context,
    user: str,
    scope: Annotated[str, typer.Option(help="read, write or admin.")] = "write",
    expires: Annotated[
        str | None, typer.Option(help="Lifetime: seconds or 30m, 12h, 30d (default: none).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note on what the key is for.")] = None,
) -> None:
    """Create a key for USER and print it once (only its hash is stored)."""
    state = state_of(ctx)
    name = validation.user_name(user)
    try:
        level = Permission(scope)
    except ValueError:
        raise InvalidInputError(f"scope {scope!r} is not read, write or admin") from None
    lifetime = parse_ttl(expires)
    note = validation.optional_text(label, field="label", max_chars=128)
    mos = state.mos
    expires_at = mos.clock() + lifetime if lifetime is not None else None
    record, key = mos.kernel.store.create_api_key(name, level, expires_at=expires_at, label=note)
    until = f", expires {record.expires_at.isoformat()}" if record.expires_at else ""
    state.out(
        {**record.to_dict(), "key": key},
        f"created key {record.id} for {name} ({level.value} scope{until})\n{key}\n"
        "Keep it now: it cannot be shown again.",
    )


@keys_app.command("list")
def list_keys(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None,
) -> None:
    """List keys (never their secrets)."""
    state = state_of(ctx)
    mos = state.mos
    found = mos.kernel.store.api_keys(None if user is None else validation.user_name(user))
    now = mos.clock()
    lines = [
        f"{k.id}  {k.user}  {k.scope.value:<5}  {k.state(now):<7}  created "
        f"{k.created_at:%Y-%m-%d %H:%M}  last used "
        f"{k.last_used_at.strftime('%Y-%m-%d %H:%M') if k.last_used_at else 'never'}"
        f"{'  expires ' + k.expires_at.strftime('%Y-%m-%d %H:%M') if k.expires_at else ''}"
        f"{'  ' + k.label if k.label else ''}"
        for k in found
    ]
    state.out(
        [{**k.to_dict(), "state": k.state(now)} for k in found],
        "\n".join(lines) if lines else "no API keys",
    )


@keys_app.command("revoke")
def revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(metavar="ID")]) -> None:
    """Revoke a key by its id; running servers refuse it within `server_cache_s` (1 s)."""
    state = state_of(ctx)
    record = state.mos.kernel.store.revoke_api_key(key_id)
    state.out(
        record,
        f"revoked key {record.id} of {record.user}; running servers refuse it within "
        f"{state.mos.settings.server_cache_s:g} s",
    )
