"""The web console in a real headless Chromium (Debian's chromium and chromium-driver, driven by
selenium) against a real `chatlog serve --dev`. Each test saves PNG screenshots under
.build/test-output/console/."""
import concurrent.futures
import http.server
import json
import os
import pathlib
import shutil
import threading

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUTPUT = pathlib.Path(os.environ.get("CHATLOG_TEST_OUTPUT", ROOT / ".build/test-output")) / "console"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


class Window:
    """One person's browser session on the console."""

    def __init__(self, base, name, size=(1200, 900)):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         f"--window-size={size[0]},{size[1]}"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(DRIVER), options=options)
        self.driver.set_page_load_timeout(20)
        self.driver.set_script_timeout(10)
        self.base = base
        self.name = name

    def quit(self):
        self.driver.quit()

    def wait(self, condition, message, seconds=5):
        try:
            return WebDriverWait(self.driver, seconds, poll_frequency=0.05).until(lambda _: condition())
        except TimeoutException:
            self.screenshot("timeout")
            raise AssertionError(f"{self.name}: {message} (within {seconds} s)") from None

    def find(self, selector):
        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def screenshot(self, label):
        OUTPUT.mkdir(parents=True, exist_ok=True)
        self.driver.save_screenshot(str(OUTPUT / f"{self.name}-{label}.png"))

    def sign_in(self, user):
        self.driver.get(self.base + "/console")
        self.wait(lambda: self.find("#dev-form").is_displayed(), "the development sign-in shows")
        assert self.find("#dev-banner").is_displayed(), "development mode is marked on the page"
        self.find("#dev-user").send_keys(user + Keys.ENTER)
        self.wait(lambda: self.find("#chat").is_displayed(), "the chat shows after sign-in")
        assert not self.find("#sign-in").is_displayed(), "the sign-in form goes away"
        self.wait(lambda: self.find("#connection").text == "live", "the WebSocket is live")

    def create_channel(self, name, members):
        self.find("#create-name").send_keys(name)
        self.find("#create-members").send_keys(", ".join(members))
        self.find("#create-form button").click()
        self.wait(lambda: self.find("#channel-title").text == name, "the new channel opens")

    def channel_entries(self):
        """The channel list's entries as text (name, then any unread count), read in one go:
        the list is re-rendered every two seconds."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#channel-list button')].map(b => b.innerText)")

    def open_channel(self, name):
        # Found and clicked in one script, so a re-render between the two cannot intervene.
        self.wait(lambda: self.driver.execute_script(
            "const button = [...document.querySelectorAll('#channel-list button')]"
            ".find(b => b.firstChild.textContent === arguments[0]);"
            "if (button) button.click(); return Boolean(button)", name), f"channel {name} appears in the list")
        self.wait(lambda: self.find("#channel-title").text == name, f"channel {name} opens")

    def type(self, text):
        box = self.find("#send-text")
        box.send_keys(text)
        box.send_keys(Keys.ENTER)

    def texts(self):
        """The rendered messages' texts, read in one go: rows are re-rendered as frames come."""
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#message-list li .text')].map(e => e.textContent)")

    def seqs(self):
        return self.driver.execute_script(
            "return [...document.querySelectorAll('#message-list li')].map(e => Number(e.dataset.seq))")

    def click_in_row(self, text, button):
        """Clicks a button of the row showing `text` (as a person would, with a real click)."""
        element = self.wait(lambda: self.driver.execute_script(
            "const row = [...document.querySelectorAll('#message-list li')]"
            ".find(r => r.querySelector('.text').textContent === arguments[0]);"
            "return row ? row.querySelector(arguments[1]) : null", text, button), f"a row shows {text!r}")
        element.click()


@pytest.fixture
def console(make_server):
    server = make_server(arguments=["--dev"])
    windows = []

    def open_window(name):
        window = Window(server.base, name)
        windows.append(window)
        return window

    def alice_and_bob(channel):
        """Alice and Bob signed in, in a channel Alice made for both and Bob opened."""
        alice, bob = open_window("alice"), open_window("bob")
        alice.sign_in("alice")
        bob.sign_in("bob")
        alice.create_channel(channel, ["bob"])
        bob.open_channel(channel)  # it appears in bob's list without a reload
        return alice, bob

    yield alice_and_bob
    for window in windows:
        window.quit()


def test_alice_and_bob_chat_live_edit_and_delete(console):
    alice, bob = console("lunch")

    alice.type("hello bob")
    bob.wait(lambda: "hello bob" in bob.texts(), "alice's message arrives", seconds=2)
    bob.type("bob here")
    alice.wait(lambda: "bob here" in alice.texts(), "bob's message arrives", seconds=2)

    bob.click_in_row("bob here", "button.edit")
    box = bob.find("#send-text")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("bob here, edited" + Keys.ENTER)
    alice.wait(lambda: "bob here, edited" in alice.texts(), "bob's edit shows for alice", seconds=2)
    assert "bob here" not in alice.texts()

    alice.click_in_row("hello bob", "button.delete")
    bob.wait(lambda: "hello bob" not in bob.texts() and "message deleted" in bob.texts(),
             "alice's delete shows for bob", seconds=2)
    alice.screenshot("chat")
    bob.screenshot("chat")


def test_a_dropped_connection_resumes_with_exactly_what_it_missed(console):
    alice, bob = console("resume")
    alice.type("before")
    bob.wait(lambda: "before" in bob.texts(), "the first message arrives")

    bob.driver.execute_script("window.chatlogConsole.dropConnection(4000)")
    bob.wait(lambda: bob.find("#connection").text == "reconnecting", "bob's console shows it is offline")
    for index in range(3):
        alice.type(f"missed {index}")
    alice.wait(lambda: "missed 2" in alice.texts(), "alice's messages are posted")
    assert not any(text.startswith("missed") for text in bob.texts()), "bob was offline"

    bob.wait(lambda: bob.find("#connection").text.startswith("resumed from"), "bob reconnects", seconds=10)
    bob.wait(lambda: "missed 2" in bob.texts(), "the missed messages arrive")
    assert bob.texts() == ["before", "missed 0", "missed 1", "missed 2"], "each once, in order, no gap"
    seqs = bob.seqs()
    assert seqs == sorted(set(seqs))
    bob.screenshot("resumed")


def test_text_is_shown_as_text_never_run_as_html(console):
    alice, bob = console('<b onmouseover="window.__pwned = 3">bold</b>')
    hostile = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>'
    alice.type(hostile)
    bob.wait(lambda: hostile in bob.texts(), "the text arrives as text", seconds=2)
    for window in (alice, bob):
        assert window.driver.execute_script("return window.__pwned") is None
        assert window.all("#message-list img") == [] and window.all("#message-list script") == []
        assert window.all("#channel-list b") == []
    bob.screenshot("escaped")


class FakeModel:
    """An OpenAI-compatible chat-completions endpoint (the hosted LLM cannot run here): it
    answers 503 while `down`, then a completion."""

    def __init__(self):
        self.down = True
        model = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if model.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                body = json.dumps({"choices": [{"message": {"role": "assistant", "content": "back now"}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_the_operator_page_shows_the_groups_and_redrives_a_dead_letter(make_server):
    model = FakeModel()
    try:
        server = make_server(environment={
            "CHATLOG_AGENT_RESPONDER": "openai", "CHATLOG_AGENT_BASE_URL": model.url,
            "CHATLOG_AGENT_MODEL": "fake", "CHATLOG_AGENT_MAX_ATTEMPTS": "1"}, arguments=["--dev"])
        key = server.chatlog("apikey", "create", "--scope", "admin").strip().splitlines()[-1]
        alice = server.token("alice")
        channel = server.request("POST", "/v1/channels", {"name": "ask", "agent": True}, token=alice)["channel"]
        server.request("POST", f"/v1/channels/{channel['id']}/messages", {"text": "anyone?"}, token=alice)

        window = Window(server.base, "operator")
        try:
            window.driver.get(server.base + "/console")
            window.find("#tab-operate").click()
            window.find("#key-input").send_keys(key + Keys.ENTER)
            for group in ("agent", "delivery"):
                window.wait(lambda: window.all(f'[data-group="{group}"] tbody tr'), f"group {group} shows its shards")
            agent = '[data-group="agent"]'
            window.wait(lambda: "1 dead letter" in window.find(f"{agent} h4").text,
                        "the agent's failed message shows as a dead letter", seconds=15)
            lags = window.driver.execute_script(
                "return [...document.querySelectorAll('[data-group] tbody tr td:nth-child(4)')]"
                ".map(td => Number(td.textContent))")
            assert lags and all(lag >= 0 for lag in lags)
            window.wait(lambda: len(window.all("#chart polyline")) == 4, "the chart draws both groups")
            streams = window.driver.execute_script(
                "return [...document.querySelectorAll('#streams tbody tr')].map(r => r.dataset.shard)")
            assert "chat_events/0" in streams and "triggers/0" in streams, streams
            window.screenshot("operate")

            model.down = False
            window.find(f"{agent} button.redrive").click()
            window.wait(lambda: "redriven 1" in window.find("#operate-result").text, "the redrive succeeds")
            window.wait(lambda: "0 dead letters" in window.find(f"{agent} h4").text, "the list is empty")
            replies = server.request("GET", f"/v1/channels/{channel['id']}/messages", token=alice)["messages"]
            assert [m["text"] for m in replies if m["senderId"] == "agent"] == ["back now"]

            # A reset is previewed before anything moves.
            window.find("#reset-group").send_keys("delivery")
            window.find("#reset-preview").click()
            window.wait(lambda: window.all("#reset-plan tbody tr"), "the dry run lists each shard's move")
            assert "nothing changed yet" in window.find("#operate-result").text
        finally:
            window.quit()
    finally:
        model.stop()


def test_a_conversation_with_the_agent_shows_its_reply(make_server):
    server = make_server(arguments=["--dev"])
    window = Window(server.base, "asker")
    try:
        window.sign_in("carol")
        window.find("#agent-text").send_keys("what is chatlog?" + Keys.ENTER)
        window.wait(lambda: any(item.startswith("agent: ") and "thinking" not in item for item in
                                window.driver.execute_script(
                                    "return [...document.querySelectorAll('#agent-log li')].map(e => e.textContent)")),
                    "the agent's reply shows", seconds=15)
        log = window.driver.execute_script(
            "return [...document.querySelectorAll('#agent-log li')].map(e => e.textContent)")
        assert log[0] == "carol: what is chatlog?" and not log[1].startswith("agent: no reply"), log
    finally:
        window.quit()


def test_unread_counts_show_and_clear_when_the_channel_is_read(console):
    alice, bob = console("first")
    alice.create_channel("second", ["bob"])
    for index in range(2):
        alice.type(f"unread {index}")
    bob.wait(lambda: "second\n2" in bob.channel_entries(), "bob's list shows 2 unread in the other channel",
             seconds=6)
    bob.open_channel("second")
    bob.wait(lambda: "unread 1" in bob.texts(), "the messages show")
    bob.wait(lambda: bob.channel_entries() == ["first", "second"], "opening the channel reads it", seconds=6)


def test_ten_thousand_messages_render_only_what_is_in_view_and_fit_a_phone(make_server):
    server = make_server(arguments=["--dev"])
    alice = server.token("alice")
    channel = server.request("POST", "/v1/channels", {"name": "busy"}, token=alice)["channel"]["id"]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda index: server.request(
            "POST", f"/v1/channels/{channel}/messages", {"text": f"message {index}"}, token=alice), range(10_000)))

    window = Window(server.base, "busy", size=(390, 844))  # a phone
    try:
        window.sign_in("alice")
        window.open_channel("busy")
        # Posted from 16 threads, the messages land in any order: the newest is the channel's
        # last seq (its creation is seq 1).
        window.wait(lambda: window.seqs() and window.seqs()[-1] == 10_001, "the newest page shows")
        assert window.driver.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"), "nothing overflows sideways"
        assert window.find("#send-text").is_displayed()
        # Scroll back through older pages: the page keeps holding only the rows in view.
        for _ in range(30):
            window.driver.execute_script("document.getElementById('messages').scrollTop = 0")
            window.driver.execute_script("return new Promise(r => requestAnimationFrame(() => r()))")
        rows = len(window.all("#message-list li"))
        loaded = window.driver.execute_script(
            "return Number.parseInt(document.getElementById('spacer-bottom').style.height) / 56")
        assert rows <= 60, f"{rows} rows in the page"
        assert loaded > 500, f"only {loaded} rows below the view: older pages did not load"
        started = window.driver.execute_script("return performance.now()")
        window.driver.execute_script(
            "const v = document.getElementById('messages'); v.scrollTop = v.scrollHeight / 2;"
            "v.dispatchEvent(new Event('scroll'))")
        took = window.driver.execute_script("return performance.now()") - started
        assert took < 200, f"a jump into the middle took {took:.0f} ms"
        window.screenshot("phone")
    finally:
        window.quit()
