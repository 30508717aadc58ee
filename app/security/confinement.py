"""``security_opt`` as the engine parses it, and which entries each profile admits.

The engine (moby ``parseSecurityOpt``) takes ``no-new-privileges`` and ``disable`` bare, and
otherwise ``key=value`` (or the legacy ``key:value``, cut at the first '=' else ':'), with the
keys ``label``, ``apparmor``, ``seccomp`` and ``no-new-privileges`` only, case-sensitive. Anything
else makes the engine fail the create (a 500); ``syntax_error`` finds those first so they are a
422 from Dockyard. A ``seccomp`` value other than ``unconfined``/``builtin`` is a whole profile
(JSON) that *replaces* the default one, so ``seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`` is
unconfined in disguise: below ``privileged`` only the engine's defaults are admitted.
"""

from __future__ import annotations

import json

KNOWN_KEYS = frozenset({"label", "apparmor", "seccomp", "no-new-privileges"})
# Go's strconv.ParseBool.
GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}
# What baseline and restricted keys may write: the engine's own defaults, and no-new-privileges.
DEFAULT_APPARMOR = "docker-default"
DEFAULT_SECCOMP = "builtin"


def split(entry: str) -> tuple[str, str | None]:
    """(key, value) as the engine cuts it; value None for the bare forms."""
    if entry in ("no-new-privileges", "disable"):
        return entry, None
    key, sep, value = entry.partition("=")
    if not sep:
        key, sep, value = entry.partition(":")
    return (key, value) if sep else (entry, None)


def syntax_error(entry: str) -> str | None:
    """Why the engine would refuse ``entry`` at create (or start); None when it parses."""
    key, value = split(entry)
    if value is None:
        if key in ("no-new-privileges", "disable"):
            return None
        return f"{entry!r} is not 'key=value' (nor 'no-new-privileges' or 'disable')"
    if key not in KNOWN_KEYS:
        known = ", ".join(sorted(KNOWN_KEYS))
        return f"unknown security option {key!r} (keys are case-sensitive: {known})"
    if key == "no-new-privileges" and value not in GO_BOOLS:
        return f"no-new-privileges takes true or false, not {value!r}"
    if key == "seccomp" and value not in ("unconfined", DEFAULT_SECCOMP):
        try:
            profile = json.loads(value)
        except ValueError:
            return "a seccomp value is 'unconfined', 'builtin' or a JSON profile"
        if not isinstance(profile, dict):
            return "a seccomp profile is a JSON object"
    return None


def no_new_privileges(entries: list[str]) -> bool:
    """Whether the entries (last one wins, as in the engine) set no-new-privileges."""
    on = False
    for entry in entries:
        key, value = split(entry)
        if key == "no-new-privileges":
            on = True if value is None else GO_BOOLS.get(value, False)
    return on


def refusal(entry: str) -> str | None:
    """Why a non-privileged key may not use ``entry`` (an allowlist); None when it may."""
    key, value = split(entry)
    if key == "no-new-privileges":
        return None
    if key == "seccomp" and value == DEFAULT_SECCOMP:
        return None
    if key == "apparmor" and value == DEFAULT_APPARMOR:
        return None
    if key == "seccomp":
        return (
            f"{entry[:60]!r} replaces the engine's default seccomp profile; only "
            f"'seccomp={DEFAULT_SECCOMP}' is allowed"
        )
    if key == "apparmor":
        return f"{entry!r}: only the engine's default 'apparmor={DEFAULT_APPARMOR}' is allowed"
    if key in ("label", "disable"):
        return f"{entry!r} changes or disables SELinux labelling"
    return f"{entry!r} is not an option this profile knows"
