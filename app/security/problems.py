"""The problems security raises: 401, 403 (role and policy), 429."""

from __future__ import annotations

from app.errors import Problem

CHALLENGE = 'Bearer realm="dockyard"'


class Unauthorized(Problem):
    status, slug, title = 401, "unauthorized", "Authentication required"


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"


class PolicyDenied(Problem):
    """The spec breaks the key's policy profile; ``violations`` lists every broken rule."""

    status, slug, title = 403, "policy-denied", "Refused by policy"


class TooManyStreams(Problem):
    status, slug, title = 429, "too-many-requests", "Too many concurrent streams"
