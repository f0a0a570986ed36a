#!/usr/bin/env bash
# Builds build/chatlog_VERSION_ARCH.deb: the chatlog binary with the Swift runtime it links
# (in /usr/lib/chatlog, found through its RPATH), /etc/chatlog/chatlog.yaml, a systemd unit,
# and a postinst that makes the `chatlog` system user and /var/lib/chatlog (0700).
# Usage: tools/package.sh [--binary PATH]   (default: a release build, made here)
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/env.sh
binary=""
while [ $# -gt 0 ]; do
    case "$1" in
    --binary) binary=$2; shift 2 ;;
    *) echo "usage: tools/package.sh [--binary PATH]" >&2; exit 2 ;;
    esac
done
command -v patchelf >/dev/null || tools/install-deps.sh --package
if [ -z "$binary" ]; then
    tools/install-deps.sh
    swift build -c release --product chatlog >&2
    binary=.build/release/chatlog
fi
arch=$(dpkg --print-architecture)
version="0.1.0+git$(git log -1 --format=%cd --date=format:%Y%m%d).$(git rev-parse --short HEAD)"
staging=$(mktemp -d)
trap 'rm -rf "$staging"' EXIT
install -d "$staging/DEBIAN" "$staging/usr/bin" "$staging/usr/lib/chatlog" "$staging/etc/chatlog" \
    "$staging/lib/systemd/system" "$staging/usr/share/doc/chatlog"
install -m 0644 README.md LICENSE docs/*.md "$staging/usr/share/doc/chatlog/"
install -m 0755 "$binary" "$staging/usr/bin/chatlog"
# The Swift runtime travels with the binary; the system's libraries become dependencies.
depends=()
while read -r library path; do
    case "$path" in
    */swift/*) install -m 0644 "$path" "$staging/usr/lib/chatlog/$library" ;;
    /*)
        owner=$(dpkg -S "$(realpath "$path")" 2>/dev/null | head -1 | cut -d: -f1) || true
        [ -n "$owner" ] && depends+=("$owner")
        ;;
    esac
done < <(ldd "$binary" | awk '$2 == "=>" { print $1, $3 }')
patchelf --set-rpath '$ORIGIN/../lib/chatlog' "$staging/usr/bin/chatlog"
for library in "$staging"/usr/lib/chatlog/*.so*; do patchelf --set-rpath '$ORIGIN' "$library"; done
sed 's|^  dir: ./data$|  dir: /var/lib/chatlog|' Config/chatlog.yaml >"$staging/etc/chatlog/chatlog.yaml"
grep -q '^  dir: /var/lib/chatlog$' "$staging/etc/chatlog/chatlog.yaml"
install -m 0644 Config/debian/chatlog.service "$staging/lib/systemd/system/chatlog.service"
install -m 0755 Config/debian/postinst Config/debian/prerm "$staging/DEBIAN/"
echo /etc/chatlog/chatlog.yaml >"$staging/DEBIAN/conffiles"
cat >"$staging/DEBIAN/control" <<CONTROL
Package: chatlog
Version: $version
Architecture: $arch
Maintainer: chatlog <chatlog@localhost>
Depends: passwd, $(printf '%s\n' "${depends[@]}" | sort -u | paste -sd, | sed 's/,/, /g')
Section: net
Priority: optional
Description: event-log chat backend in one binary
 REST and WebSocket chat APIs, an AI agent and an event inbox over an append-only,
 sharded log on disk (LMDB), with consumer groups, a DynamoDB Streams API and a CLI.
CONTROL
mkdir -p build
output="build/chatlog_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$staging" "$output" >/dev/null
echo "$output"
