#!/usr/bin/env bash
# Builds kmview_<version>_<arch>.deb from the release artifacts, with dpkg-deb alone (no
# debian/ directory, no debhelper): the commands, the library, the man pages and the
# completions from doc/, a copyright file and a control file.
#
#   packaging/deb/build.sh [--build] [OUTDIR]     (OUTDIR defaults to target/debian)
#
# --build runs `cargo build --release --locked` first (a no-op when up to date); without it the
# artifacts in target/release are packaged as they are, built only if one is missing.
set -euo pipefail
umask 022

root="$(cd "$(dirname "$0")/../.." && pwd)"
build=0
out="$root/target/debian"
for a in "$@"; do
    case "$a" in
        --build) build=1 ;;
        -h | --help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) echo "build.sh: unknown option $a" >&2; exit 2 ;;
        *) out="$a" ;;
    esac
done

rel="${CARGO_TARGET_DIR:-$root/target}/release"
# Every command the launcher crate builds (kmview and its front ends), from its [[bin]] tables.
mapfile -t bins < <(sed -n '/^\[\[bin\]\]/,/^$/s/^name = "\(.*\)"$/\1/p' "$root/launcher/Cargo.toml")
[[ " ${bins[*]} " == *" kmview "* ]] || { echo "build.sh: no kmview in launcher/Cargo.toml's [[bin]] tables" >&2; exit 1; }
for f in "${bins[@]}" libkmview.so; do [ -f "$rel/$f" ] || build=1; done
if [ "$build" = 1 ]; then
    (cd "$root" && "${CARGO:-cargo}" build --release --locked -p kmview -p kmview-launcher)
fi

version="$("$rel/kmview" --version | awk '{print $2}')"
arch="$(dpkg --print-architecture)"
# The library goes where the system keeps its own (Debian's multiarch directory).
multiarch="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)"
[ -n "$version" ] && [ -n "$multiarch" ] || { echo "build.sh: cannot tell the version or the multiarch triplet" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
chmod 755 "$stage"
for b in "${bins[@]}"; do install -Dm755 "$rel/$b" "$stage/usr/bin/$b"; done
install -Dm644 "$rel/libkmview.so" "$stage/usr/lib/$multiarch/kmview/libkmview.so"
# Debug info is most of the size; the symbols stay (the launcher reads the library's version
# from its dynamic symbols, and panics are unwound through .eh_frame, which strip keeps).
strip --strip-debug "$stage/usr/bin/"* "$stage/usr/lib/$multiarch/kmview/libkmview.so"
for page in "$root"/doc/man/*.1; do
    install -Dm644 "$page" "$stage/usr/share/man/man1/$(basename "$page")"
    gzip -9n "$stage/usr/share/man/man1/$(basename "$page")"   # -n: no name or time, reproducible
done
install -Dm644 "$root/doc/completions/kmview.bash" "$stage/usr/share/bash-completion/completions/kmview"
install -Dm644 "$root/doc/completions/_kmview" "$stage/usr/share/zsh/vendor-completions/_kmview"
install -Dm644 "$root/doc/completions/kmview.fish" "$stage/usr/share/fish/vendor_completions.d/kmview.fish"
install -Dm644 "$root/packaging/deb/copyright" "$stage/usr/share/doc/kmview/copyright"

# The newest glibc symbol version any of the files needs: what dpkg-shlibdeps would find.
glibc="$(objdump -T "$stage/usr/bin/"* "$stage/usr/lib/$multiarch/kmview/libkmview.so" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)"
depends="libc6${glibc:+ (>= ${glibc#GLIBC_})}"
mkdir -p "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: kmview
Version: $version
Architecture: $arch
Maintainer: ${DEBFULLNAME:-kmview developers} <${DEBEMAIL:-kmview@invalid}>
Installed-Size: $(du -sk --exclude=DEBIAN "$stage" | cut -f1)
Depends: $depends
Section: utils
Priority: optional
Description: per-process views of the file system, without root or namespaces
 kmview runs a command, and every process it starts, in its own view of the
 file system: bind mounts, another root, hidden, denied and read-only paths,
 a fake root (kmview-fakeroot, for fakeroot's command line) and a trace of
 every call. libkmview.so, preloaded with LD_PRELOAD, translates each call
 inside the process: no root, no user namespace, no kernel module, no ptrace
 (kmview-proot takes proot's command line).
CONTROL

mkdir -p "$out"
deb="$out/kmview_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage" "$deb" >/dev/null
echo "$deb"
