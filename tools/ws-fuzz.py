#!/usr/bin/env python3
"""Fuzzes chatlog's WebSocket and its HTTP/1 parser: random and mutated control frames over
authenticated sockets, binary and oversized frames, and random bytes at a raw HTTP/1 socket.
Fails (exit 1) on an error frame with code "internal", on a 5xx, or when the server stops
answering /v1/health. Usage: ws-fuzz.py BASE_URL TOKEN FRAMES"""
import asyncio
import json
import random
import socket
import sys
import urllib.request

import websockets

base, token, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
host, port = base.removeprefix("http://").split(":")
random.seed(20261205)
SEEDS = [
    {"type": "subscribe", "channelId": "c", "sinceSeq": 0},
    {"type": "unsubscribe", "channelId": "c"},
    {"type": "ping"},
    {"type": "auth", "token": token},
    {"type": "message", "text": "hi"},
]
ATOMS = [None, True, 0, -1, 2**63, 1.5e308, "", "x" * 300, "\u0000", "é", [], {}, [1, [2]], {"a": {}}]


def mutate(frame):
    frame = dict(frame)
    for _ in range(random.randint(1, 3)):
        key = random.choice(list(frame) + ["type", "channelId", "sinceSeq", "token", "zz"])
        if random.random() < 0.2:
            frame.pop(key, None)
        else:
            frame[key] = random.choice(ATOMS + [random.choice(SEEDS)["type"]])
    return frame


def payload():
    roll = random.random()
    if roll < 0.6:
        return json.dumps(mutate(random.choice(SEEDS)))
    if roll < 0.8:
        text = json.dumps(random.choice(SEEDS))
        cut = random.randint(0, len(text))
        return text[:cut] + random.choice(["", "}", "{", "\\", '"', "\u0001"]) + text[cut:]
    if roll < 0.9:
        return bytes(random.getrandbits(8) for _ in range(random.randint(0, 64)))
    return "[" * random.randint(1, 2000)


def healthy():
    with urllib.request.urlopen(base + "/v1/health", timeout=10) as response:
        return response.status == 200


async def socket_run(count):
    failures = []
    async with websockets.connect(
        f"ws://{host}:{port}/v1/ws", additional_headers={"Authorization": f"Bearer {token}"},
        max_size=2**22, open_timeout=10) as ws:
        for _ in range(count):
            await ws.send(payload())
            try:
                answer = await asyncio.wait_for(ws.recv(), timeout=10)
            except websockets.ConnectionClosed as closed:
                if closed.rcvd and closed.rcvd.code == 1011:
                    failures.append(f"closed with 1011: {closed.rcvd.reason}")
                return failures
            frame = json.loads(answer)
            if frame.get("code") == "internal":
                failures.append(f"internal error frame: {frame}")
    return failures


def raw_http(count):
    failures = []
    for _ in range(count):
        with socket.create_connection((host, int(port)), timeout=15) as connection:
            request = random.choice([
                b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
                b"POST /v1/channels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                b"GET /v1/ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            ])
            cut = random.randint(0, len(request))
            noise = bytes(random.getrandbits(8) for _ in range(random.randint(0, 40)))
            connection.sendall(request[:cut] + noise + request[cut:] + b"\r\n\r\n")
            try:
                answer = connection.recv(65536)
            except socket.timeout:
                answer = b""
            if answer.startswith(b"HTTP/1.1 5"):
                failures.append(f"5xx to {request[:cut] + noise + request[cut:]!r}: {answer[:200]!r}")
    return failures


async def main():
    failures = []
    per_socket = 200
    for _ in range(max(1, total // per_socket)):
        failures += await socket_run(per_socket)
    failures += raw_http(max(20, total // 20))
    if not healthy():
        failures.append("the server stopped answering /v1/health")
    for failure in failures[:20]:
        print("FAIL", failure)
    print(f"ws-fuzz: {total} frames, {len(failures)} failures")
    sys.exit(1 if failures else 0)


asyncio.run(main())
