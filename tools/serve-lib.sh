# Shared by the tools' scripts that run a server of their own: source it.

# Sets bin to the chatlog binary: CHATLOG_BIN, or the build of CONFIGURATION (debug or
# release), made first when it is not given.
chatlog_binary() {
    local configuration=$1
    bin=${CHATLOG_BIN:-.build/$configuration/chatlog}
    [ -n "${CHATLOG_BIN:-}" ] || swift build -c "$configuration" --product chatlog >&2
}

# Runs `chatlog serve` on DATA_DIR, on a free port, in the background, its output in LOG_DIR;
# sets server (its pid) and address (host:port), or exits when it does not start.
start_server() {
    local data=$1 logs=$2
    "$bin" serve --data-dir "$data" --port 0 >"$logs/out.log" 2>"$logs/server.log" &
    server=$!
    for _ in $(seq 600); do grep -q "http://" "$logs/out.log" 2>/dev/null && break; sleep 0.1; done
    address=$(grep -o '127.0.0.1:[0-9]*' "$logs/out.log" | head -1)
    [ -n "$address" ] || { echo "the server did not start" >&2; cat "$logs/server.log" >&2; exit 1; }
}
