"""The README's configuration table names every setting there is, and none that is not."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_lists_every_setting() -> None:
    named = set(re.findall(r"`DOCKYARD_([A-Z0-9_]+)`", README.read_text(encoding="utf-8")))
    fields = {name.upper() for name in Settings.model_fields}
    assert fields - named == set(), "settings missing from the README"
    assert named - fields == set(), "the README names settings that do not exist"
