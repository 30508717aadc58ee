"""Who may call what: one table of (method, route template) rules, first match wins.

A new route is covered by adding a line here, not by touching its handler. A /v1 route that no
line matches is admin-only, so forgetting a line fails closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from app.security.principal import Role


@dataclass(frozen=True)
class Rule:
    methods: frozenset[str]  # empty: any method
    template: str  # a route path template; ``*`` matches anything, '/' included
    role: Role

    def applies(self, method: str, template: str) -> bool:
        return (not self.methods or method in self.methods) and fnmatchcase(template, self.template)


def rule(methods: str, template: str, role: Role) -> Rule:
    return Rule(frozenset(m for m in methods.split(",") if m != "*"), template, role)


VIEW, OPER, ADMIN = Role.viewer, Role.operator, Role.admin

RULES: tuple[Rule, ...] = (
    # Admin-only families first, so the broader lines below cannot open them up.
    rule("*", "/v1/audit*", ADMIN),
    rule("*", "/v1/images*", ADMIN),
    rule("*", "/v1/volumes*", ADMIN),
    rule("*", "/v1/networks*", ADMIN),
    rule("*", "/v1/*/prune", ADMIN),
    # Swarm: nodes are the cluster's machines, an admin's; services as containers are.
    rule("*", "/v1/nodes*", ADMIN),
    rule("GET,HEAD", "/v1/services/{ref}/logs", OPER),
    rule("POST", "/v1/services", OPER),
    rule("POST", "/v1/services/{ref}/*", OPER),
    rule("PATCH,DELETE", "/v1/services/{ref}", OPER),
    rule("POST", "/v1/secrets", OPER),
    rule("POST", "/v1/configs", OPER),
    # What can carry secrets out of a container is an operator's: logs, files, exec output.
    rule("GET,HEAD", "/v1/containers/{ref}/logs", OPER),
    rule("GET,HEAD", "/v1/containers/{ref}/archive", OPER),
    rule("GET,HEAD", "/v1/execs/*", OPER),
    # Container lifecycle, create/run, exec, file upload.
    rule("POST", "/v1/containers", OPER),
    rule("POST", "/v1/containers/run", OPER),
    rule("POST", "/v1/containers/{ref}/*", OPER),
    rule("PUT", "/v1/containers/{ref}/archive", OPER),
    rule("DELETE", "/v1/containers/{ref}", OPER),
    # A stream ticket carries no more than the key that asks for it.
    rule("POST", "/v1/tickets", VIEW),
    # Every other read.
    rule("GET,HEAD", "/v1/*", VIEW),
)


# The table never changes while the app runs, so each (method, template) is matched once: the
# gate asks on every /v1 request, and walking the table with fnmatch cost more than the rest of it.
@lru_cache(maxsize=1024)
def required_role(method: str, template: str | None) -> Role:
    """The least role that may call ``method template``; admin when nothing matches."""
    if template is None:
        return Role.admin
    for entry in RULES:
        if entry.applies(method, template):
            return entry.role
    return Role.admin
