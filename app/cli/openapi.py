"""``python -m app.cli.openapi``: write the spec the app generates to openapi/openapi.json."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def render(spec: dict[str, Any]) -> str:
    """The committed form: stable key order, two-space indent, trailing newline."""
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def current_spec() -> dict[str, Any]:
    from app.main import create_app
    from app.settings import Settings

    # Defaults only: the spec must not depend on the environment it is generated in.
    return create_app(Settings(_env_file=None)).openapi()


def main() -> int:
    SPEC_PATH.parent.mkdir(parents=True, exist_ok=True)
    SPEC_PATH.write_text(render(current_spec()), encoding="utf-8")
    print(f"wrote {SPEC_PATH}")  # noqa: T201 - a command-line tool reports what it did
    return 0


if __name__ == "__main__":
    sys.exit(main())
