"""A real `chatlog serve` on an ephemeral port, for the Python suites: an unmodified boto3
(tests/ddbstreams), a headless Chromium (tests/console) and the example clients (tests/examples)
pointed at it."""
import json
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINARY = os.environ.get("CHATLOG_BIN", str(ROOT / ".build/debug/chatlog"))


class Server:
    """`chatlog serve` in a data directory of its own; `restart()` keeps the directory."""

    def __init__(self, environment=None, arguments=()):
        self.directory = tempfile.mkdtemp(prefix="chatlog-py-")
        self.environment = dict(os.environ, CHATLOG_RATE_LIMIT_ENABLED="false", **(environment or {}))
        self.arguments = list(arguments)
        self.process = None
        self.start()

    def start(self, port=0):
        self.process = subprocess.Popen(
            [BINARY, "serve", "--data-dir", self.directory, "--port", str(port), *self.arguments],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.environment, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if "http://" in line:
                self.base = line.split("http://", 1)[1].split()[0]
                self.base = "http://" + self.base
                return
            if not line and self.process.poll() is not None:
                break
        raise RuntimeError("chatlog serve did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def restart(self, same_port=False):
        """Stops and starts the server on its directory (and, with `same_port`, its port: clients
        reconnect to the address they had)."""
        port = int(self.base.rsplit(":", 1)[1]) if same_port else 0
        self.stop()
        self.start(port)

    def remove(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def chatlog(self, *arguments):
        return subprocess.run(
            [BINARY, *arguments, "--data-dir", self.directory], capture_output=True, text=True,
            env=self.environment, timeout=60, check=True).stdout

    def token(self, user):
        return self.chatlog("token", "--user", user).strip().splitlines()[-1]

    def api_key(self, *scopes):
        arguments = ["apikey", "create", "--json"]
        for scope in scopes:
            arguments += ["--scope", scope]
        return json.loads(self.chatlog(*arguments))

    def request(self, method, path, body=None, token=None, key=None):
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode())
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", "Bearer " + token)
        if key:
            request.add_header("X-API-Key", key)
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None

    def streams_client(self, credential, region="us-east-1", unsigned=False, secret=None):
        config = Config(
            connect_timeout=5, read_timeout=20, retries={"max_attempts": 1}, parameter_validation=False,
            signature_version=UNSIGNED if unsigned else None)
        return boto3.client(
            "dynamodbstreams", endpoint_url=self.base + "/ddbstreams", region_name=region,
            aws_access_key_id=credential["accessKeyId"],
            aws_secret_access_key=secret or credential["secretAccessKey"], config=config)


@pytest.fixture
def server():
    started = Server()
    yield started
    started.remove()


@pytest.fixture
def make_server():
    started = []

    def make(environment=None, arguments=()):
        server = Server(environment, arguments)
        started.append(server)
        return server

    yield make
    for server in started:
        server.remove()
