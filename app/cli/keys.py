"""``python -m app keys create|list|revoke``: manage the keys file without the server."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import get_args

from app.schemas.common import parse_duration, parse_size
from app.security.keys import KeyLimits, KeyStore
from app.security.principal import Profile, RoleName, Scope
from app.settings import Settings


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """An RFC 3339 time, or a duration from now (``720h``, ``3600``)."""
    now = now or datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return now + timedelta(seconds=parse_duration(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app keys", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="mint a key; its token is printed once")
    create.add_argument("--role", choices=get_args(RoleName), required=True)
    create.add_argument("--profile", choices=get_args(Profile), default="baseline")
    create.add_argument("--scope", choices=get_args(Scope), default="all")
    create.add_argument("--expires", help="RFC 3339 time or a duration such as 720h")
    create.add_argument("--images", help="comma-separated image patterns, e.g. 'busybox:*,app/*'")
    create.add_argument("--memory", help="per-container memory ceiling, e.g. 512m")
    create.add_argument("--cpus", type=float, help="per-container CPU ceiling")
    create.add_argument("--pids", type=int, help="per-container PID ceiling")
    create.add_argument("--description", default="")
    sub.add_parser("list", help="list keys (never their tokens)")
    revoke = sub.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("id")
    return parser


def main(argv: list[str], settings: Settings | None = None) -> int:
    args = _parser().parse_args(argv)
    store = KeyStore((settings or Settings()).keys_file)
    out = sys.stdout
    if args.command == "create":
        key, token = store.create(
            role=args.role,
            profile=args.profile,
            scope=args.scope,
            expires=parse_expiry(args.expires) if args.expires else None,
            images=[p.strip() for p in (args.images or "").split(",") if p.strip()],
            limits=KeyLimits(
                memory=parse_size(args.memory) if args.memory else None,
                cpus=args.cpus,
                pids=args.pids,
            ),
            description=args.description,
        )
        out.write(
            f"id:    {key.id}\nrole:  {key.role}  profile: {key.profile}  scope: {key.scope}\n"
        )
        out.write(f"token: {token}\n(shown only now; the keys file keeps its hash)\n")
        return 0
    if args.command == "list":
        now = datetime.now(UTC)
        out.write(f"{'ID':<14}{'ROLE':<10}{'PROFILE':<12}{'SCOPE':<7}{'STATE':<9}EXPIRES\n")
        for key in store.keys():
            state = "revoked" if key.revoked else ("active" if key.usable(now) else "expired")
            expires = key.expires.isoformat() if key.expires else "-"
            out.write(
                f"{key.id:<14}{key.role:<10}{key.profile:<12}{key.scope:<7}{state:<9}{expires}\n"
            )
        return 0
    revoked = store.revoke(args.id)
    if revoked is None:
        sys.stderr.write(f"no key with id {args.id}\n")
        return 1
    out.write(f"revoked {revoked.id}\n")
    return 0
