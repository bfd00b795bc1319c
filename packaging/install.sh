#!/bin/sh
# Install the annotator desktop build from this unpacked tarball, for one user (no root, no
# Python needed):
#
#   ./install.sh                  install into ~/.local
#   ./install.sh --prefix DIR     install into DIR (DIR/bin, DIR/lib, DIR/share)
#   ./install.sh --uninstall      remove what an earlier install put there (same --prefix)
#
# It puts the program in PREFIX/lib/annotator, a link PREFIX/bin/annotator, the menu entry in
# PREFIX/share/applications, the icons in PREFIX/share/icons/hicolor and the MIME type of
# .annot.json projects in PREFIX/share/mime. Every file it writes is listed in
# PREFIX/lib/annotator/installed-files.txt; --uninstall removes exactly those.
set -eu

PREFIX="${HOME:?HOME is not set}/.local"
ACTION=install
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a folder" >&2; exit 2; }
                  PREFIX="$2"; shift ;;
        --prefix=*) PREFIX="${1#--prefix=}" ;;
        --uninstall) ACTION=uninstall ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
    esac
    shift
done
case "$PREFIX" in /*) ;; *) PREFIX="$(pwd)/$PREFIX" ;; esac

APP="$PREFIX/lib/annotator"
MANIFEST="$APP/installed-files.txt"
SHARE="$PREFIX/share"

refresh_caches() {
    # Optional desktop database tools: present on desktops, harmless to skip elsewhere.
    if command -v update-mime-database >/dev/null 2>&1 && [ -d "$SHARE/mime/packages" ]; then
        update-mime-database "$SHARE/mime" >/dev/null 2>&1 || true
    fi
    if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$SHARE/applications" ]; then
        update-desktop-database "$SHARE/applications" >/dev/null 2>&1 || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$SHARE/icons/hicolor/index.theme" ]; then
        gtk-update-icon-cache -q -t -f "$SHARE/icons/hicolor" >/dev/null 2>&1 || true
    fi
}

uninstall() {
    if [ ! -f "$MANIFEST" ]; then
        echo "install.sh: no annotator install found in $PREFIX (no $MANIFEST)" >&2
        exit 1
    fi
    # Files outside the program folder, as listed at install time; then the folder itself.
    while IFS= read -r path; do
        case "$path" in "$APP"/*) continue ;; esac
        if [ -L "$path" ] || [ -f "$path" ]; then rm -f "$path"; fi
    done < "$MANIFEST"
    rm -rf "$APP"
    refresh_caches
    echo "annotator removed from $PREFIX"
}

put() {  # put SOURCE DEST: copy one file and record it
    mkdir -p "$(dirname "$2")"
    cp "$1" "$2"
    echo "$2" >> "$MANIFEST"
}

install_app() {
    HERE="$(cd "$(dirname "$0")" && pwd)"
    BUNDLE="$HERE/annotator"
    DESKTOP="$BUNDLE/_internal/resources/desktop"
    if [ ! -x "$BUNDLE/annotator" ] || [ ! -d "$DESKTOP" ]; then
        echo "install.sh: run me from the unpacked tarball (no $BUNDLE/annotator here)" >&2
        exit 1
    fi
    if [ -e "$APP" ] && [ ! -f "$MANIFEST" ]; then
        echo "install.sh: $APP exists and is not an annotator install; not touching it" >&2
        exit 1
    fi
    if [ -f "$MANIFEST" ]; then
        echo "annotator: replacing the install in $PREFIX"
        uninstall >/dev/null
    fi
    mkdir -p "$PREFIX/lib" "$PREFIX/bin"
    cp -a "$BUNDLE" "$APP"
    : > "$MANIFEST"
    find "$APP" -type f -o -type l | sort >> "$MANIFEST"

    if [ -e "$PREFIX/bin/annotator" ] && [ "$(readlink "$PREFIX/bin/annotator" || true)" != "$APP/annotator" ]; then
        echo "install.sh: $PREFIX/bin/annotator exists and is not ours; not replacing it" >&2
    else
        ln -sfn "$APP/annotator" "$PREFIX/bin/annotator"
        echo "$PREFIX/bin/annotator" >> "$MANIFEST"
    fi

    # The menu entry runs the program by its full path, so it works without PREFIX/bin on PATH.
    mkdir -p "$SHARE/applications"
    sed -e "s|^Exec=annotator |Exec=\"$APP/annotator\" |" -e "s|^TryExec=annotator\$|TryExec=$APP/annotator|" \
        "$DESKTOP/annotator.desktop" > "$SHARE/applications/annotator.desktop"
    echo "$SHARE/applications/annotator.desktop" >> "$MANIFEST"

    put "$DESKTOP/annotator-mime.xml" "$SHARE/mime/packages/annotator.xml"
    ICONS="$SHARE/icons/hicolor"
    put "$DESKTOP/icons/annotator.svg" "$ICONS/scalable/apps/annotator.svg"
    put "$DESKTOP/icons/annotator.svg" "$ICONS/scalable/mimetypes/application-x-annotator-project.svg"
    for png in "$DESKTOP"/icons/annotator-*.png; do
        size="${png##*/annotator-}"; size="${size%.png}"
        put "$png" "$ICONS/${size}x${size}/apps/annotator.png"
        put "$png" "$ICONS/${size}x${size}/mimetypes/application-x-annotator-project.png"
    done
    refresh_caches

    echo "annotator installed in $APP"
    case ":${PATH:-}:" in
        *":$PREFIX/bin:"*) echo "run it with: annotator [VIDEO|PROJECT], or from the applications menu" ;;
        *) echo "run it with: $PREFIX/bin/annotator [VIDEO|PROJECT] (add $PREFIX/bin to PATH for plain 'annotator')" ;;
    esac
}

if [ "$ACTION" = uninstall ]; then uninstall; else install_app; fi
