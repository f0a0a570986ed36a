"""Frame fuzzer for chatlog's /v1/ws: random control frames, mutated JSON, junk text and
binary frames over a few sockets. Every frame must get an answer (an error frame, a pong, a
subscribed/unsubscribed/authenticated frame) and the socket must stay open; any close other
than ours, or a silent server, is a failure. Then random bytes spliced into raw HTTP/1
requests: none may get a 5xx. Usage: fuzz-ws.py HOST:PORT TOKEN FRAMES"""
import asyncio
import json
import random
import socket as sockets
import sys

import websockets

HOST, TOKEN, FRAMES = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(20261122)


def junk():
    choices = [
        lambda: {"type": random.choice(["subscribe", "unsubscribe", "ping", "message", "send", "", None, 7])},
        lambda: {"type": "subscribe", "channelId": random.choice(["", "x" * 2000, "nope", None, 5, "\u0000"])},
        lambda: {"type": "subscribe", "channelId": "c", "sinceSeq": random.choice([-1, 0, 2**63, "1", 1.5, None])},
        lambda: {"type": "message", "channelId": "c", "text": "hello"},
        lambda: {"type": "auth", "token": random.choice([TOKEN, TOKEN[:-3], "", "x.y.z", None, 5])},
        lambda: [random.randint(0, 9)],
        lambda: random.choice([None, True, 3, "str"]),
    ]
    return json.dumps(random.choice(choices)())


def frame():
    kind = random.random()
    if kind < 0.6:
        return junk()
    if kind < 0.8:
        text = junk()
        position = random.randrange(len(text))
        return text[:position] + random.choice(["{", "}", "\"", "\\", "\u00e9", ""]) + text[position + 1:]
    if kind < 0.9:
        return "".join(chr(random.randint(1, 0x2FF)) for _ in range(random.randint(0, 64)))
    return bytes(random.getrandbits(8) for _ in range(random.randint(0, 256)))


async def socket(count):
    url = f"ws://{HOST}/v1/ws?token={TOKEN}"
    async with websockets.connect(url, max_size=None) as ws:
        for _ in range(count):
            await ws.send(frame())
            reply = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
            assert reply.get("type") in ("error", "pong", "subscribed", "unsubscribed", "authenticated"), reply
            if reply.get("type") == "error":
                assert reply.get("code") in ("invalid_request", "not_found", "unauthorized"), reply


def raw_http(count):
    host, port = HOST.split(":")
    requests = [
        b"GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /v1/channels HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        b"GET /v1/ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    ]
    for _ in range(count):
        request = random.choice(requests)
        cut = random.randint(0, len(request))
        noise = bytes(random.getrandbits(8) for _ in range(random.randint(0, 40)))
        sent = request[:cut] + noise + request[cut:] + b"\r\n\r\n"
        with sockets.create_connection((host, int(port)), timeout=20) as connection:
            connection.sendall(sent)
            try:
                answer = connection.recv(65536)
            except (sockets.timeout, ConnectionResetError):
                answer = b""
        assert not answer.startswith(b"HTTP/1.1 5"), (sent, answer[:200])


async def main():
    per_socket = FRAMES // 4
    await asyncio.gather(*(socket(per_socket) for _ in range(4)))
    print(f"ws fuzzer: {per_socket * 4} frames, every one answered, no socket closed by the server")
    raw = max(20, FRAMES // 20)
    raw_http(raw)
    print(f"raw HTTP/1 fuzzer: {raw} mangled requests, none answered 5xx")


asyncio.run(main())
