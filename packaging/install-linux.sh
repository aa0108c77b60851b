#!/usr/bin/env bash
# Install a built bundle for one user (default) or system-wide, with its menu entry and icons.
#
#   packaging/install-linux.sh [BUNDLE] [PREFIX]
#
# BUNDLE defaults to dist/cxviewer, PREFIX to ~/.local (use /usr/local or /opt/... as root).
# Copies the bundle to PREFIX/lib/cxviewer, links PREFIX/bin/cxviewer to it, and installs
# resources/cxviewer.desktop and the icons into PREFIX/share (freedesktop hicolor theme), so the
# desktop file's Exec=cxviewer and Icon=cxviewer resolve. Run it again to update; remove with
#   rm -rf PREFIX/lib/cxviewer PREFIX/bin/cxviewer PREFIX/share/applications/cxviewer.desktop \
#          PREFIX/share/icons/hicolor/*/apps/cxviewer.*
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUNDLE=$(cd "${1:-$ROOT/dist/cxviewer}" && pwd)
PREFIX=${2:-$HOME/.local}
[ -x "$BUNDLE/cxviewer" ] || { echo "no cxviewer executable in $BUNDLE (run packaging/build.sh)" >&2; exit 2; }
ICONS=$BUNDLE/_internal/cxviewer/_resources/icons

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$PREFIX/share/applications"
rm -rf "$PREFIX/lib/cxviewer.new"
cp -a "$BUNDLE" "$PREFIX/lib/cxviewer.new"
rm -rf "$PREFIX/lib/cxviewer"
mv "$PREFIX/lib/cxviewer.new" "$PREFIX/lib/cxviewer"
ln -sfn "$PREFIX/lib/cxviewer/cxviewer" "$PREFIX/bin/cxviewer"

for png in "$ICONS"/cxviewer-*.png; do
    size=$(basename "$png" .png); size=${size#cxviewer-}
    install -D -m 644 "$png" "$PREFIX/share/icons/hicolor/${size}x${size}/apps/cxviewer.png"
done
install -D -m 644 "$ICONS/cxviewer.svg" "$PREFIX/share/icons/hicolor/scalable/apps/cxviewer.svg"
# Exec by absolute path: PREFIX/bin need not be on the desktop session's PATH
sed -e "s|^Exec=cxviewer|Exec=$PREFIX/bin/cxviewer|" -e "s|^TryExec=cxviewer|TryExec=$PREFIX/bin/cxviewer|" \
    "$BUNDLE/_internal/cxviewer/_resources/cxviewer.desktop" > "$PREFIX/share/applications/cxviewer.desktop"
chmod 644 "$PREFIX/share/applications/cxviewer.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$PREFIX/share/applications" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$PREFIX/share/icons/hicolor" || true
echo "installed $PREFIX/bin/cxviewer and its menu entry"
