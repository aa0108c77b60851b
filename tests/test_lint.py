"""ruff (a small rule set on cxviewer/) and mypy (imaging, the shared base, the model's run time) pass.

Both read their settings from pyproject.toml ([tool.ruff], [tool.mypy]); a failure prints their report.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def _run(tool: str, *args: str) -> subprocess.CompletedProcess:
    if importlib.util.find_spec(tool) is None:
        pytest.skip(f"{tool} is not installed (pip install -e '.[test]')")
    return subprocess.run([sys.executable, "-m", tool, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    done = _run("ruff", "check", "--no-cache", "--output-format", "concise")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing_in_imaging_and_the_model_run_time():
    done = _run("mypy")  # the files and options are [tool.mypy]'s
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_the_checks_are_not_empty():
    """The configuration still names the packages the issue put under the checks."""
    import tomllib

    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    assert set(config["ruff"]["lint"]["select"]) >= {"E9", "F", "I", "B", "UP"}
    files = config["mypy"]["files"]
    assert "cxviewer/imaging" in files and "cxviewer/model/classifier.py" in files
    assert not any(("train" in f or "evaluate" in f) for f in files)  # the run time, not training
