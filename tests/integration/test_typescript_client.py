"""A TypeScript client generated from the committed spec type-checks under ``tsc --strict``, and
the spec passes Redocly's recommended lint (exceptions justified in openapi/redocly.yaml).

The tools are pinned in clients/typescript/package.json and package-lock.json, installed by
``./scripts/test`` with ``npm ci``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.cli.openapi import SPEC_PATH

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "typescript"
BIN = CLIENT / "node_modules" / ".bin"


@pytest.fixture(scope="module")
def tools() -> Path:
    if not (BIN / "openapi-ts").exists():
        pytest.fail("the TypeScript tools are not installed: run ./scripts/test (npm ci)")
    return BIN


def _run(command: list[str], cwd: Path) -> str:
    result = subprocess.run(
        command,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "REDOCLY_TELEMETRY": "off"},
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, report
    return report


def test_generated_typescript_client_type_checks_strictly(tools: Path, tmp_path: Path) -> None:
    # A copy of the project (tsconfig and the usage file), so the repository stays clean.
    for name in ("tsconfig.json", "usage.ts"):
        shutil.copy(CLIENT / name, tmp_path / name)
    (tmp_path / "node_modules").symlink_to(CLIENT / "node_modules")
    _run([str(tools / "openapi-ts"), "-i", str(SPEC_PATH), "-o", "generated"], tmp_path)
    assert (tmp_path / "generated" / "sdk.gen.ts").exists()
    sdk = (tmp_path / "generated" / "sdk.gen.ts").read_text(encoding="utf-8")
    # One function per operation, named after the operation id.
    assert "export const createContainer" in sdk
    assert "export const containerLogs" in sdk
    _run([str(tools / "tsc"), "--strict", "--noEmit", "-p", "."], tmp_path)


def test_spec_passes_redocly_lint(tools: Path) -> None:
    report = _run(
        [
            str(tools / "redocly"),
            "lint",
            str(SPEC_PATH),
            "--config",
            str(ROOT / "openapi" / "redocly.yaml"),
        ],
        CLIENT,
    )
    assert "warning" not in report.lower().replace("deprecation warning", ""), report
