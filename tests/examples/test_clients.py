"""The example clients against a real server: examples/python/chatlog_client.py and the Swift
one (examples/swift, the package's ChatlogClient). Each takes its tour, and its follower
resumes across a server restart without losing or repeating a message."""
import json
import os
import pathlib
import queue
import subprocess
import sys
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLIENTS = {
    "python": [sys.executable, str(ROOT / "examples/python/chatlog_client.py")],
    "swift": [str(pathlib.Path(os.environ.get("CHATLOG_BIN", ROOT / ".build/debug/chatlog")).parent / "ChatlogClient")],
}


@pytest.fixture(params=sorted(CLIENTS))
def client(request):
    return CLIENTS[request.param]


def run_client(client, server, token, command, *arguments):
    # Both take the command first, then its options (the Swift one's are the subcommand's).
    return subprocess.Popen(
        [*client, command, "--url", server.base, "--token", token, *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Lines:
    """A process's output lines, each read with a time limit."""

    def __init__(self, process):
        self.lines = queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line) for line in process.stdout], daemon=True).start()

    def take(self, count, timeout=20):
        return [json.loads(self.lines.get(timeout=timeout)) for _ in range(count)]


def test_the_tour_posts_and_reads_the_history_back_in_order(client, server):
    tour = run_client(client, server, server.token("alice"), "tour")
    out, err = tour.communicate(timeout=60)
    assert tour.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    texts = ["hello", "is anyone there?", "bye"]
    assert [line["posted"]["text"] for line in lines[1:4]] == texts
    assert [line["posted"]["seq"] for line in lines[1:4]] == [2, 3, 4]
    # Three messages in pages of two: the client follows nextCursor.
    assert lines[4]["history"] == texts


def test_the_follower_resumes_across_a_restart_without_a_gap_or_a_repeat(client, server):
    token = server.token("alice")
    channel = server.request("POST", "/v1/channels", {"name": "follow"}, token=token)["channel"]["id"]

    def post(text):
        path = f"/v1/channels/{channel}/messages"
        return server.request("POST", path, {"text": text}, token=token)["message"]

    before = [post(f"before {n}") for n in range(3)]
    follower = run_client(client, server, token, "follow", channel, "--since", "1", "--count", "8")
    try:
        lines = Lines(follower)
        # What was posted before it came is replayed first.
        assert [m["text"] for m in lines.take(3)] == [m["text"] for m in before]
        live = [post(f"live {n}") for n in range(2)]
        assert [m["text"] for m in lines.take(2)] == [m["text"] for m in live]
        server.restart(same_port=True)
        after = [post(f"after restart {n}") for n in range(3)]
        got = lines.take(3, timeout=40)
        assert [m["text"] for m in got] == [m["text"] for m in after]
        assert follower.wait(timeout=20) == 0, follower.stderr.read()
    finally:
        follower.kill()
        follower.wait(timeout=10)
