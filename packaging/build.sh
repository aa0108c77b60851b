#!/usr/bin/env bash
# Build CXViewer's one-folder desktop bundle with PyInstaller: dist/cxviewer/ (executable: cxviewer).
#
#   packaging/build.sh            # uses .venv/bin/python; incremental (PyInstaller's cache in build/)
#   CLEAN=1 packaging/build.sh    # from scratch
#   CXVIEWER_BUNDLE_VARIANT=gpu packaging/build.sh   # with TensorFlow (CUDA GPUs, training); default cpu: LiteRT only
#
# Environment: PYTHON (interpreter with CXViewer's dependencies and PyInstaller, default .venv/bin/python),
# DISTPATH (default dist/), WORKPATH (default build/pyinstaller). Whatever is in models/ at build time is
# bundled. Ends with a headless check of the result (--version, then the GUI smoke test).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
DISTPATH=${DISTPATH:-$ROOT/dist}
WORKPATH=${WORKPATH:-$ROOT/build/pyinstaller}
cd "$ROOT"

if ! "$PYTHON" -m PyInstaller --version >/dev/null 2>&1; then
    echo "PyInstaller is not installed for $PYTHON: pip install '.[packaging]'" >&2
    exit 2
fi
export CXVIEWER_BUNDLE_VARIANT=${CXVIEWER_BUNDLE_VARIANT:-cpu}
case "$CXVIEWER_BUNDLE_VARIANT" in
    cpu) needs=ai_edge_litert ;;
    gpu) needs=tensorflow ;;
    *) echo "CXVIEWER_BUNDLE_VARIANT must be cpu or gpu, not '$CXVIEWER_BUNDLE_VARIANT'" >&2; exit 2 ;;
esac
if ! "$PYTHON" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$needs') is None)"; then
    echo "the $CXVIEWER_BUNDLE_VARIANT variant needs $needs in $PYTHON's environment (gpu: pip install '.[gpu,packaging]')" >&2
    exit 2
fi
# The bundle freezes the build environment's packages: say so when they are not what pyproject.toml asks for.
"$PYTHON" - <<'PY' || true
import tomllib
from importlib.metadata import PackageNotFoundError, version
from packaging.requirements import Requirement
for text in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    req = Requirement(text)
    try:
        found = version(req.name)
    except PackageNotFoundError:
        found = None
    if found is None or not req.specifier.contains(found, prereleases=True):
        print(f"warning: the bundle will carry {req.name} {found or '(missing)'}, but pyproject.toml asks for {text}")
PY
models=$(find models -name card.json 2>/dev/null | wc -l)
[ "$models" -gt 0 ] || echo "note: models/ holds no model card; the bundle will have no classifier" >&2

start=$(date +%s)
"$PYTHON" -m PyInstaller --noconfirm ${CLEAN:+--clean} --log-level "${LOG_LEVEL:-WARN}" \
    --distpath "$DISTPATH" --workpath "$WORKPATH" packaging/cxviewer.spec
seconds=$(( $(date +%s) - start ))

BUNDLE=$DISTPATH/cxviewer
echo "built the $CXVIEWER_BUNDLE_VARIANT variant into $BUNDLE in ${seconds} s; size $(du -sh "$BUNDLE" | cut -f1)"
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
"$BUNDLE/cxviewer" --version
if [ "${SMOKE:-1}" = 1 ]; then
    home=$(mktemp -d)
    trap 'rm -rf "$home"' EXIT
    CXVIEWER_HOME=$home "$BUNDLE/cxviewer" --smoke-test
fi
