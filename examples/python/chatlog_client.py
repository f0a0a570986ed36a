#!/usr/bin/env python3
"""A small chatlog client: REST with requests, the WebSocket with websockets.

    pip install requests websockets
    TOKEN=$(chatlog token --user alice | tail -1)
    python3 chatlog_client.py tour --url http://localhost:8080 --token "$TOKEN"
    python3 chatlog_client.py follow CHANNEL_ID --since 1 --token "$TOKEN"

`tour` creates a channel, posts, and reads the history back page by page. `follow` prints each
message of a channel as a JSON line, from `--since` on, and resumes after a disconnect from the
last seq it printed: the server replays what was missed, so nothing is lost or printed twice.
"""
import argparse
import asyncio
import json
import sys
import uuid

import requests
import websockets


class ChatlogError(Exception):
    """An answer in the error envelope: {"error": {"code", "message", "details", "requestId"}}."""

    def __init__(self, status, error):
        super().__init__(f"{status} {error.get('code')}: {error.get('message')}")
        self.status = status
        self.code = error.get("code")
        self.retry_after = error.get("details", {}).get("retryAfterSeconds")


class Chatlog:
    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.token = token

    def _call(self, method, path, body=None, headers=None, params=None):
        response = self.session.request(
            method, self.url + path, json=body, headers=headers, params=params, timeout=10)
        if response.status_code >= 400:
            raise ChatlogError(response.status_code, response.json().get("error", {}))
        return response.json()

    def create_channel(self, name, members=(), agent=False):
        body = {"name": name, "members": list(members), "agent": agent}
        return self._call("POST", "/v1/channels", body)["channel"]

    def post(self, channel_id, text, key=None):
        """Posts a message. The Idempotency-Key makes a retry after a timeout safe: the same key
        gets the same message back, never a second one."""
        headers = {"Idempotency-Key": key or str(uuid.uuid4())}
        return self._call("POST", f"/v1/channels/{channel_id}/messages", {"text": text}, headers)["message"]

    def history(self, channel_id, page_size=50):
        """Every message, oldest first: pages newest-first, each oldest-first within, joined by
        the page's nextCursor passed back as `cursor`."""
        pages, cursor = [], None
        while True:
            params = {"limit": page_size, **({"cursor": cursor} if cursor else {})}
            page = self._call("GET", f"/v1/channels/{channel_id}/messages", params=params)
            pages.append(page["messages"])
            cursor = page.get("nextCursor")
            if not cursor:
                return [message for page in reversed(pages) for message in page]

    async def follow(self, channel_id, since_seq=None, on_message=print, stop=None):
        """Calls `on_message` with each message of the channel after `since_seq`, in seq order,
        until `stop()` is true; reconnects with backoff and resumes from the last seq seen."""
        ws_url = self.url.replace("http", "ws", 1) + "/v1/ws"
        last, backoff = since_seq, 0.1
        while not (stop and stop()):
            try:
                async with websockets.connect(
                        ws_url, additional_headers={"Authorization": f"Bearer {self.token}"},
                        open_timeout=5) as socket:
                    subscribe = {"type": "subscribe", "channelId": channel_id}
                    if last is not None:
                        subscribe["sinceSeq"] = last
                    await socket.send(json.dumps(subscribe))
                    backoff = 0.1
                    async for text in socket:
                        frame = json.loads(text)
                        if frame["type"] == "error":
                            raise ChatlogError(400, frame)
                        if frame.get("channelId") != channel_id or "seq" not in frame:
                            continue
                        if frame["type"] == "subscribed" and last is None:
                            last = frame["seq"]  # no sinceSeq: live from the head
                        if frame["type"] in ("message", "event"):
                            last = frame["seq"]
                        if frame["type"] == "message":
                            on_message(frame["message"])
                        if stop and stop():
                            return
            except (OSError, asyncio.TimeoutError, websockets.ConnectionClosed, websockets.InvalidHandshake):
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5)


def main():
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", default="http://localhost:8080", help="the server's URL")
    common.add_argument("--token", required=True, help="a bearer token (chatlog token --user NAME)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("tour", parents=[common])
    follow = commands.add_parser("follow", parents=[common])
    follow.add_argument("channel")
    follow.add_argument("--since", type=int, help="the last seq you have (default: from now)")
    follow.add_argument("--count", type=int, help="stop after this many messages")
    arguments = parser.parse_args()
    client = Chatlog(arguments.url, arguments.token)
    if arguments.command == "tour":
        channel = client.create_channel("tour")
        print(json.dumps({"channel": channel["id"]}))
        for text in ("hello", "is anyone there?", "bye"):
            print(json.dumps({"posted": client.post(channel["id"], text)}))
        print(json.dumps({"history": [message["text"] for message in client.history(channel["id"], page_size=2)]}))
        return
    seen = []

    def show(message):
        seen.append(message)
        print(json.dumps(message), flush=True)

    stop = (lambda: len(seen) >= arguments.count) if arguments.count else None
    asyncio.run(client.follow(arguments.channel, arguments.since, show, stop))


if __name__ == "__main__":
    try:
        main()
    except ChatlogError as error:
        sys.exit(f"chatlog: {error}")
    except KeyboardInterrupt:
        pass
