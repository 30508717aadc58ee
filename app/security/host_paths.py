"""Host paths: which ones a non-privileged key may bind, as pure functions of plain data.

The rule (Pod Security Standards, baseline): no host paths, except the exact entries of
``DOCKYARD_HOST_PATH_ALLOWLIST``. An entry is bindable as a whole, never a path below it, and
entries may not nest. That closes the symlink swap without any re-check at start: a container
sees only the *inside* of the directory bound to it, so it can never replace that directory (or
anything above it) with a symlink; and no path below an entry is ever a bind source, so a
symlink a container plants inside its tree is never followed by the engine. See ARCHITECTURE.md.

Sensitive paths (and the engine's own data-root, from engine info) are never bindable, even
when an operator allowlisted them or a directory holding them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Mapping, Sequence

# Host paths that give root (or the engine) to whoever may write, or even read, them.
# Both spellings of /run are listed: Dockyard cannot see the host's /var/run -> /run symlink
# when it runs in a container.
SENSITIVE_HOST_PATHS: tuple[str, ...] = (
    "/",
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/lib",
    "/lib32",
    "/lib64",
    "/usr",
    "/bin",
    "/sbin",
    "/root",
    "/home",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/kubelet",
    "/var/spool/cron",
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/containerd",
    "/var/run/containerd",
    "/run/systemd",
    "/var/run/systemd",
    "/run/dbus",
    "/var/run/dbus",
)


def normalize(path: str) -> str:
    """The path with ``.``, ``..`` and repeated slashes folded (no symlinks followed)."""
    folded = posixpath.normpath(path.strip())
    # POSIX keeps a leading "//" as is; the kernel does not.
    return "/" + folded.lstrip("/") if folded.startswith("/") else folded


def is_under(path: str, root: str) -> bool:
    root = root.rstrip("/")
    return path == root or path.startswith(root + "/") or (root == "" and path.startswith("/"))


def is_sensitive(path: str, roots: Iterable[str]) -> bool:
    """A path that is, lies under, or contains a sensitive host path (``/var`` holds docker's)."""
    if "docker.sock" in path or "containerd.sock" in path:
        return True
    # "/" is sensitive itself (and holds everything), not everything under it.
    return any((root != "/" and is_under(path, root)) or is_under(root, path) for root in roots)


def allowlist_problems(entries: Sequence[str]) -> list[str]:
    """What is wrong with an allowlist (empty: usable). Nested entries would reopen the swap."""
    problems = []
    folded = [normalize(e) for e in entries]
    for raw, entry in zip(entries, folded, strict=True):
        if not entry.startswith("/"):
            problems.append(f"{raw!r} is not an absolute path")
        elif entry == "/":
            problems.append("'/' cannot be allowlisted")
    for i, outer in enumerate(folded):
        for j, inner in enumerate(folded):
            if i != j and outer != inner and is_under(inner, outer):
                problems.append(
                    f"{inner!r} lies under {outer!r}: a container bound to the outer one could "
                    "swap the inner one for a symlink; list only one of them"
                )
    return problems


def bind_refusal(
    source: str,
    *,
    allowlist: Sequence[str],
    extra_sensitive: Iterable[str] = (),
    resolve: Callable[[str], str] | None = None,
) -> tuple[str, str] | None:
    """(rule, message) when a non-privileged key may not bind ``source``; None when it may.

    ``resolve`` is what Dockyard can see of the host (``os.path.realpath`` when it shares the
    host's filesystem); it only ever adds refusals, never admits what the plain rule refuses.
    """
    if not source.startswith("/"):
        return "host-path", f"host path {source!r} is not absolute"
    path = normalize(source)
    roots = {*SENSITIVE_HOST_PATHS, *(normalize(r) for r in extra_sensitive if r)}
    seen = resolve(path) if resolve else path
    if is_sensitive(path, roots) or is_sensitive(seen, roots):
        shown = source if seen == source else f"{source} (resolves to {seen})"
        return "sensitive-host-path", f"host path {shown} is or contains a sensitive host path"
    entries = {normalize(e) for e in allowlist}
    if path not in entries:
        hint = (
            "; only an allowlisted path itself may be bound, not a path below it"
            if any(is_under(path, e) for e in entries)
            else "; an operator may allowlist it in DOCKYARD_HOST_PATH_ALLOWLIST"
        )
        return "host-path", f"host path {source} is not allowlisted{hint}"
    if seen != path:
        return "host-path", f"host path {source} is a symlink (to {seen}); bind its target"
    return None


# ---------------------------------------------------------------------------- volume options

# The only local-driver options a non-privileged key may give: an in-memory volume.
SAFE_TMPFS_OPTIONS = frozenset({"size", "mode", "uid", "gid", "nr_inodes", "noexec", "nosuid"})
SAFE_TMPFS_OPTIONS |= {"nodev", "ro", "rw"}


def _options(text: str) -> list[tuple[str, str]]:
    out = []
    for part in text.split(","):
        name, _, value = part.strip().partition("=")
        if name:
            out.append((name.strip().lower(), value.strip()))
    return out


def volume_host_path(driver: str | None, driver_opts: Mapping[str, str]) -> str | None:
    """The host path (or '' for "something else on the host") a volume's options would mount.

    None only for the forms a non-privileged key may use: the local driver with no options, or
    a tmpfs with harmless options. Everything else (``o=bind``/``rbind`` in any spelling, a
    ``device`` that is a path, relative or not, ``overlay`` with ``lowerdir=``/``upperdir=``,
    nfs/cifs devices, unknown keys) counts as reaching the host.
    """
    if (driver or "local").strip().lower() != "local":
        return ""
    opts = {k.strip().lower(): v.strip() for k, v in driver_opts.items()}
    if not opts:
        return None
    kind = opts.get("type", "").lower()
    device = opts.get("device", "")
    options = _options(opts.get("o", ""))
    names = {name for name, _ in options}
    if set(opts) <= {"type", "device", "o"} and kind == "tmpfs" and device.lower() == "tmpfs":
        if names <= SAFE_TMPFS_OPTIONS:
            return None
    if names & {"bind", "rbind"} or kind in ("", "none", "bind"):
        # A relative device resolves against dockerd's working directory: a host path too.
        return device if device.startswith("/") else ""
    for name, value in options:
        if name in ("lowerdir", "upperdir", "workdir") and value:
            return value.split(":", 1)[0]
    return device if device.startswith("/") else ""
