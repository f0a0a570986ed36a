#!/usr/bin/env bash
# Builds the Debian package from a built binary (default: the debug build), installs it with
# dpkg into a clean directory tree (not this machine's root), checks what it installed — the
# user, the 0700 data directory, the config, the unit — and starts the installed binary for a
# health check. Usage: tools/test-package.sh [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/chatlog}
deb=$(tools/package.sh --binary "$binary")
root=$(mktemp -d)
data=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$root" "$data"
}
trap cleanup EXIT
fail() { echo "test-package: $*" >&2; exit 1; }

# A tree with an empty dpkg database and the accounts a fresh system has.
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/usr/sbin"
touch "$root/var/lib/dpkg/status"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
install -m 0600 /dev/null "$root/etc/shadow"
install -m 0600 /dev/null "$root/etc/gshadow"
as_root=""
[ "$(id -u)" -eq 0 ] || as_root="fakeroot"
# Its libraries are this machine's; the tree holds only the package.
DPKG_ROOT="$root" $as_root dpkg --root="$root" --log=/dev/null --force-script-chrootless --force-depends \
    --force-not-root -i "$deb" >"$data.dpkg" 2>&1 || fail "dpkg -i failed: $(cat "$data.dpkg")"
rm -f "$data.dpkg"

[ -x "$root/usr/bin/chatlog" ] || fail "no /usr/bin/chatlog"
[ -f "$root/lib/systemd/system/chatlog.service" ] || fail "no systemd unit"
grep -q '^  dir: /var/lib/chatlog$' "$root/etc/chatlog/chatlog.yaml" || fail "the config does not name /var/lib/chatlog"
uid=$(awk -F: '$1 == "chatlog" { print $3 }' "$root/etc/passwd")
[ -n "$uid" ] && [ "$uid" -ne 0 ] || fail "no chatlog system user"
[ "$(stat -c %a "$root/var/lib/chatlog")" = 700 ] || fail "/var/lib/chatlog is not 0700"
[ "$(stat -c %u "$root/var/lib/chatlog")" = "$uid" ] || fail "/var/lib/chatlog is not chatlog's"
! ldd "$root/usr/bin/chatlog" | grep -q '/opt/swift' || fail "the binary still loads the Swift runtime from /opt/swift"
ldd "$root/usr/bin/chatlog" | grep -q "$root/usr/bin/../lib/chatlog/libswiftCore.so" || fail "the packaged Swift runtime is not used"

# The installed binary, its installed config, a data directory of the test's own.
"$root/usr/bin/chatlog" serve --config "$root/etc/chatlog/chatlog.yaml" --data-dir "$data" --port 0 \
    >"$data.out" 2>/dev/null &
server=$!
url=""
for _ in $(seq 1 300); do
    url=$(grep -o 'http://[0-9.:]*' "$data.out" | head -1 || true)
    [ -n "$url" ] && break
    kill -0 "$server" 2>/dev/null || fail "the installed chatlog exited: $(cat "$data.out")"
    sleep 0.1
done
rm -f "$data.out"
[ -n "$url" ] || fail "the installed chatlog did not start within 30 s"
health=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
    "$url/v1/health") || fail "no answer from $url/v1/health"
[ "$health" = '{"status":"ok"}' ] || fail "unexpected health answer: $health"
echo "test-package: $(basename "$deb") installs into a clean tree and its binary answers $url/v1/health"
