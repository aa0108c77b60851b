"""Architecture rules: Qt only in cxviewer/ui (and the PDF renderer); the core stays light."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = REPO_ROOT / "cxviewer"
QT = ("PySide6", "pyqtgraph")
QT_ALLOWED = ("cxviewer/ui/", "cxviewer/report/pdf.py")
CORE = ("cxviewer/imaging/", "cxviewer/model/", "cxviewer/training/", "cxviewer/scan/", "cxviewer/report/", "cxviewer/pacs/", "cxviewer/paths.py")


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports: import statements (at any depth) and literal import_module/__import__ calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            base = path.relative_to(REPO_ROOT).with_suffix("").parts[: -node.level]
            names.add(".".join((*base, *([node.module] if node.module else []))))
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__"):
                names.add(node.args[0].value)
    return names


def _sources() -> list[tuple[str, Path]]:
    return sorted((p.relative_to(REPO_ROOT).as_posix(), p) for p in PACKAGE.rglob("*.py"))


def _is_under(relative: str, prefixes: tuple[str, ...]) -> bool:
    return any(relative == p or relative.startswith(p) for p in prefixes)


def test_only_ui_and_pdf_renderer_import_qt():
    offenders = {
        relative: sorted(m for m in _imported_modules(path) if m.split(".")[0] in QT)
        for relative, path in _sources()
        if not _is_under(relative, QT_ALLOWED)
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"Qt imported outside cxviewer/ui and cxviewer/report/pdf.py: {offenders}"


def test_core_never_imports_the_ui():
    offenders = {
        relative: sorted(m for m in _imported_modules(path) if m.startswith("cxviewer.ui") or m == "cxviewer.report.pdf")
        for relative, path in _sources()
        if _is_under(relative, CORE) and relative != "cxviewer/report/pdf.py"
    }
    offenders = {k: v for k, v in offenders.items() if v}
    assert not offenders, f"core modules import the UI: {offenders}"


def test_ast_check_sees_hidden_imports(tmp_path):
    """The checker itself finds nested, relative and dynamic imports."""
    sample = PACKAGE / "imaging" / "display.py"
    found = _imported_modules(sample)
    assert "cv2" in found and "cxviewer.imaging.lut" in found
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import PySide6.QtGui\n    importlib.import_module('pyqtgraph')\n")
    assert {"PySide6.QtGui", "pyqtgraph"} <= _imported_modules(probe)


def test_import_linter_contracts():
    """The import-linter contracts in pyproject.toml ([tool.importlinter]) are kept."""
    pytest.importorskip("importlinter")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout and "KEPT" in done.stdout
    text = " ".join(done.stdout.split())  # the report wraps long contract names
    for contract in ("Layers: cli > commands > ui | training > pacs > scan > report | model | annotate > imaging", "pydicom is imported only in",
                     "The model's run time, and everything the viewer and the scan run, never import the training code"):
        assert contract in text and "KEPT" in text.split(contract, 1)[1][:200], done.stdout


def test_core_and_cli_import_without_qt_or_tensorflow():
    """Importing the core, the CLI and the model package must not load Qt or TensorFlow."""
    code = (
        "import sys, cxviewer.cli, cxviewer.imaging, cxviewer.paths, cxviewer.model, cxviewer.scan; "
        "print(sorted(m for m in ('PySide6', 'pyqtgraph', 'tensorflow') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
