#!/bin/sh
# Installs libmagenta: libmagenta.so and libmagenta.a, the headers
# (<magenta/*.h>) and magenta.pc for pkg-config.
#
# Usage (from anywhere in the repository):
#
#   mx-ffi/install.sh                          # builds, installs to /usr/local
#   PREFIX=$HOME/.local mx-ffi/install.sh
#   DESTDIR=/tmp/stage PREFIX=/usr mx-ffi/install.sh     # staged, for packages
#
# Environment:
#   PREFIX      installation prefix (default /usr/local)
#   LIBDIR      library directory (default $PREFIX/lib)
#   DESTDIR     staging root prepended to every path written (default none)
#   PROFILE     cargo profile to build and install (default release)
#   NO_BUILD=1  do not run cargo; install what the build directory holds
#   BUILD_DIR   where libmagenta.{so,a} are (default
#               ${CARGO_TARGET_DIR:-<repo>/target}/$PROFILE)
#   NO_RPATH=1  leave -Wl,-rpath,$LIBDIR out of magenta.pc's Libs (it is
#               there unless LIBDIR is one of the loader's own directories,
#               /usr/lib, /usr/lib64, /lib, /lib64, /usr/lib/<triplet>)
#
# Then:
#   cc prog.c $(pkg-config --cflags --libs magenta)                    # shared
#   cc -static prog.c $(pkg-config --static --cflags --libs magenta)   # static
# If PREFIX is outside pkg-config's search path, first
#   export PKG_CONFIG_PATH=$LIBDIR/pkgconfig
# The rpath in magenta.pc lets a shared program find libmagenta.so at run
# time without LD_LIBRARY_PATH.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=${PREFIX:-/usr/local}
LIBDIR=${LIBDIR:-$PREFIX/lib}
DESTDIR=${DESTDIR:-}
PROFILE=${PROFILE:-release}
BUILD_DIR=${BUILD_DIR:-${CARGO_TARGET_DIR:-$repo/target}/$PROFILE}

if [ "${NO_BUILD:-0}" != 1 ]; then
    (cd "$repo" && cargo build --profile "$PROFILE" -p mx-ffi --lib)
fi
for lib in libmagenta.so libmagenta.a; do
    if [ ! -f "$BUILD_DIR/$lib" ]; then
        echo "install.sh: $BUILD_DIR/$lib not found (build first, or set BUILD_DIR)" >&2
        exit 1
    fi
done

# Programs linked with -lmagenta find the library at run time through this.
case "$LIBDIR" in
    /usr/lib | /usr/lib64 | /lib | /lib64 | /usr/lib/*-linux-gnu*) rpath= ;;
    *) rpath='-Wl,-rpath,${libdir}' ;;
esac
if [ "${NO_RPATH:-0}" = 1 ]; then
    rpath=
fi

version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n 1)

install -d "$DESTDIR$LIBDIR/pkgconfig" "$DESTDIR$PREFIX/include/magenta/syscalls"
install -m 755 "$BUILD_DIR/libmagenta.so" "$DESTDIR$LIBDIR/libmagenta.so"
install -m 644 "$BUILD_DIR/libmagenta.a" "$DESTDIR$LIBDIR/libmagenta.a"
# Every header under include/magenta/, whatever its name.
(cd "$repo/include/magenta" && find . -name '*.h') | while read -r header; do
    install -d "$DESTDIR$PREFIX/include/magenta/$(dirname "$header")"
    install -m 644 "$repo/include/magenta/$header" "$DESTDIR$PREFIX/include/magenta/$header"
done
sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@LIBDIR@|$LIBDIR|g" -e "s|@VERSION@|$version|g" \
    -e "s| *@RPATH@|${rpath:+ $rpath}|" \
    "$repo/mx-ffi/magenta.pc.in" > "$DESTDIR$LIBDIR/pkgconfig/magenta.pc"
chmod 644 "$DESTDIR$LIBDIR/pkgconfig/magenta.pc"

echo "installed libmagenta $version to $DESTDIR$PREFIX (libraries in $DESTDIR$LIBDIR)"
# The dynamic loader caches its directories; refresh it for a system install.
if [ -z "$DESTDIR" ] && [ "$(id -u)" = 0 ] && command -v ldconfig >/dev/null 2>&1; then
    case "$LIBDIR" in
        /usr/lib|/usr/local/lib|/usr/lib64|/usr/local/lib64) ldconfig ;;
    esac
fi
