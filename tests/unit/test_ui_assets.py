"""The dashboard's files: all shipped in the package, nothing loaded from another host."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "app" / "ui" / "static"
OWN = [
    p for p in STATIC.rglob("*") if p.suffix in {".html", ".js", ".css"} and "vendor" not in p.parts
]
# Imports and references between our own files: ``from "./x.js"``, ``href="/ui/assets/…"``.
REFERENCE = re.compile(r"""(?:from\s+|import\(\s*|href=|src=)["']([^"']+)["']""")


def test_every_static_file_is_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["app"]
    for path in STATIC.rglob("*"):
        if path.is_file():
            relative = path.relative_to(ROOT / "app").as_posix()
            assert any(fnmatch(relative, pattern) for pattern in patterns), relative


def test_our_pages_name_no_other_host() -> None:
    for path in OWN:
        text = path.read_text(encoding="utf-8")
        # The SVG namespace is an identifier, never fetched.
        found = set(re.findall(r"https?://[^\s\"'`)]+", text)) - {"http://www.w3.org/2000/svg"}
        assert found == set(), f"{path.name} names {found}"


def test_every_reference_resolves_to_a_shipped_file() -> None:
    for path in OWN:
        for target in REFERENCE.findall(path.read_text(encoding="utf-8")):
            if target.startswith("#") or "${" in target:
                continue
            if target.startswith("/ui/assets/"):
                resolved = STATIC / target.removeprefix("/ui/assets/")
            else:
                resolved = (path.parent / target).resolve()
            assert resolved.is_file(), f"{path.name} refers to missing {target}"


def test_vendored_libraries_carry_their_licences() -> None:
    for library in ("xterm", "swagger-ui"):
        assert (STATIC / "vendor" / library / "LICENSE").is_file()
