#!/usr/bin/env python3
"""The web chat in a real browser: two headless Chromium sessions chat through a real chatkit-server.

Run it with scripts/test-browser, which installs what it needs and builds the server. It starts chatkit-server on a
free loopback port with a fresh database, and drives Alice's and Bob's pages: both sign up, Alice starts a direct
chat with Bob, they exchange messages, each sees the other's typing indicator and read receipt, they react, edit
and delete, Alice creates a group and Bob sees its unread count, Bob reloads and sees the history, answers held
back while newer events arrive do not put older state back, a hello refused for its protocol version is said and not
tried again, a refused conversation list is read again by itself, marking a busy open chat read does not read the list
again, a socket on a dead network (its `close` event late) is given up once a ping goes unanswered, the server restarts (same database and port) while Alice has a message waiting, and both pages
reconnect by themselves and keep chatting; then Alice's page goes away while the server is down with a message in
its outbox, and the page she opens again sends it, once; Bob's reloaded page reads a conversation list of several
pages (and `?pageSize=` outside 1 to 500 reads default pages); a tab copied from Alice's starts signed out while hers
goes on, keeping its unsent messages, which go out once each when she logs in there; a refresh whose answer is lost is
tried again at once, and the login goes on; the server's database is restored from an older copy, which both pages
notice (rewoundTo), reloading what they show; a paste over a field's limit is kept and said, not cut; a message or
edit over 64 KiB of UTF-8 is refused by the page, keeping the text; messages not sent to conversations Alice left or
was removed from are shown above her list, to be discarded; logging out empties the password form; and after the
server ends Bob's login with a message in his outbox, Carol signing in on his tab never sends it; and Carol logging
out while her password change waits for its answer signs out at once, the change's new session ended when it comes.

Every wait is an explicit wait on a condition with a timeout. Screenshots of both windows at each step, the
server's log and the browsers' console logs go to a folder printed at the start; it is kept.
"""

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import (
    ElementNotInteractableException,
    NoAlertPresentException,
    StaleElementReferenceException,
    TimeoutException,
    WebDriverException,
)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

TIMEOUT = 20  # seconds, for anything the page should do promptly
RECONNECT_TIMEOUT = 45  # seconds, for a reconnect (the page backs off up to 15 s between attempts)


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout, what):
    """Polls `condition` until it returns something truthy; fails with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except (OSError, StaleElementReferenceException) as error:
            last_error = error
        time.sleep(0.1)
    raise Failure(f"Timed out after {timeout} s waiting for {what}" + (f" ({last_error})" if last_error else ""))


class Server:
    """chatkit-server as a child process, stopped by its PID."""

    def __init__(self, binary, database, port, log_path, web_root=None):
        self.binary = binary
        self.web_root = web_root
        self.database = database
        self.port = port
        self.log_path = log_path
        self.process = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self):
        log = open(self.log_path, "a")
        log.write(f"--- starting {self.binary} on port {self.port}\n")
        log.flush()
        self.process = subprocess.Popen(
            [self.binary, "--host", "127.0.0.1", "--port", str(self.port), "--database", self.database,
             "--log-level", "info"] + (["--web-root", self.web_root] if self.web_root else []),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        log.close()
        print(f"  server started, pid {self.process.pid}, {self.url}")

        def healthy():
            if self.process.poll() is not None:
                raise Failure(f"chatkit-server exited with status {self.process.returncode}; see {self.log_path}")
            with urllib.request.urlopen(self.url + "/health", timeout=2) as response:
                return response.status == 200

        wait_for(healthy, 60, "the server's /health")

    def stop(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        print(f"  stopping server pid {process.pid}")
        os.kill(process.pid, signal.SIGTERM)  # graceful: closes every socket with `shutdown`
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


class Page:
    """One user's browser window."""

    def __init__(self, name, base_url, artifacts):
        self.name = name
        self.base_url = base_url
        self.artifacts = artifacts
        options = webdriver.ChromeOptions()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        options.add_argument("--headless=new")
        options.add_argument("--window-size=1000,700")
        options.add_argument("--disable-dev-shm-usage")
        options.add_argument("--disable-gpu")
        if os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to run as root with its sandbox
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        service = Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
        self.driver = webdriver.Chrome(service=service, options=options)
        self.console = []

    def quit(self):
        try:
            self.save_console()
        finally:
            self.driver.quit()

    def save_console(self):
        try:
            self.console += self.driver.get_log("browser")
        except Exception:  # the browser may be gone already
            pass
        with open(os.path.join(self.artifacts, f"console-{self.name}.log"), "w") as file:
            for entry in self.console:
                file.write(f"{entry.get('level')} {entry.get('message')}\n")

    def screenshot(self, step):
        path = os.path.join(self.artifacts, f"{step}-{self.name}.png")
        self.driver.save_screenshot(path)
        return path

    # Finding and waiting

    def wait(self, condition, what, timeout=TIMEOUT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1,
                                 ignored_exceptions=[StaleElementReferenceException,
                                                     ElementNotInteractableException]).until(
                lambda driver: condition())
        except TimeoutException:
            raise Failure(f"{self.name}: timed out after {timeout} s waiting for {what}") from None

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def visible(self, css):
        def check():
            elements = [e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()]
            return elements[0] if elements else None
        return self.wait(check, f"a visible {css}")

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def message_bodies(self):
        return self.js("return [...document.querySelectorAll('#messages li.message .body')]"
                       ".map((e) => e.textContent)")

    def wait_for_message(self, text, timeout=TIMEOUT):
        self.wait(lambda: text in self.message_bodies(), f"the message {text!r} (have {self.message_bodies()})",
                  timeout)

    def message_item(self, text):
        """The <li> of the message whose body is `text`, or None."""
        return self.js(
            "return [...document.querySelectorAll('#messages li.message')]"
            ".find((li) => li.querySelector('.body')?.textContent === arguments[0]) ?? null", text)

    def message_action(self, text, css):
        """Clicks the control `css` of the message `text` (found afresh if the message was redrawn meanwhile)."""
        def click():
            item = self.message_item(text)
            if item is None:
                return False
            item.find_element(By.CSS_SELECTOR, css).click()
            return True
        self.wait(click, f"{css} of the message {text!r}")

    def react(self, text, emoji):
        """Opens the reaction picker of the message `text` and picks `emoji`."""
        def pick():
            item = self.message_item(text)
            if item is None:
                return False
            choice = item.find_element(By.CSS_SELECTOR, f"[data-action='pick-{emoji}']")
            if not choice.is_displayed():
                item.find_element(By.CSS_SELECTOR, "[data-action=react]").click()
                return False
            choice.click()
            return True
        self.wait(pick, f"the reaction {emoji} on {text!r}")

    def connection_state(self):
        return self.find("#connection-status").get_attribute("data-state")

    def wait_online(self, timeout=TIMEOUT):
        self.wait(lambda: self.connection_state() == "online", "the connection to be online", timeout)

    # Actions

    def open(self):
        self.driver.get(self.base_url + "/")
        self.visible("#auth-form")

    def sign_up(self, username, password, display_name):
        self.visible("#username").send_keys(username)
        self.find("#password").send_keys(password)
        self.find("#display-name").send_keys(display_name)
        self.find("#signup-button").click()
        self.visible("#chat-view")
        self.wait_online()

    def type(self, text):
        box = self.visible("#composer-input")
        box.send_keys(text)

    def send_keys_to_composer(self, text):
        """Types `text` and presses Enter, without waiting for it to be stored."""
        self.type(text)
        self.find("#composer-input").send_keys(Keys.ENTER)

    def send(self, text):
        self.send_keys_to_composer(text)
        self.wait_for_message(text)

    def open_conversation(self, title):
        def click_item():
            # A list item is redrawn when what it shows changes: find and click it in one go, again if it went stale.
            for button in self.driver.find_elements(By.CSS_SELECTOR, "#conversation-list .conversation-item"):
                if button.find_element(By.CSS_SELECTOR, ".item-title").text == title:
                    button.click()
                    return True
            return False
        self.wait(click_item, f"the conversation {title!r} in the list")
        self.wait(lambda: self.find("#conversation-title").text == title, f"the conversation {title!r} to open")

    def conversation_item(self, title):
        return self.js(
            "return [...document.querySelectorAll('#conversation-list .conversation-item')]"
            ".find((b) => b.querySelector('.item-title')?.textContent === arguments[0]) ?? null", title)


def copy_database(source, target):
    """Copies a stopped server's SQLite database (with its write-ahead log, if any) over another."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(target + suffix):
            os.remove(target + suffix)
        if os.path.exists(source + suffix):
            shutil.copyfile(source + suffix, target + suffix)


# Run in a page before its scripts (Page.addScriptToEvaluateOnNewDocument). `testHooks.holdNext = "history"` holds
# back the answer to the page's next request of that type, until `testHooks.release()`: meanwhile the events of
# changes made after the server read that answer reach the page first, as they may when the server is busy. A socket
# in `testHooks.dead` plays a dead network: nothing goes out or comes in, and its `close` event (after the page
# closes it) is held back until released, as a browser fires it only when the closing handshake times out.
# `testHooks.holdSend = "markRead"` holds back the page's next request of that type itself (sent at `release()`).
# The type in sessionStorage's `testHooks.refuseNext`, set before the page loads, makes the server refuse the page's
# first request of that type (it goes out as "refusedByTheTest", a type the server does not know; the code in
# `testHooks.refuseAs`, if set, replaces the code of the server's refusal the page reads). Each socket counts
# the frames the page sent on it, by type, in `sentTypes` (those held back or dropped too). The JSON array in
# sessionStorage's `testHooks.helloVersions` replaces the protocol versions the page's hellos name.
TEST_HOOKS = """
const hooks = (window.testHooks = { holdNext: null, heldID: null, held: [], dead: new Set(), sockets: [],
                                    holdSend: null, refuseNext: sessionStorage.getItem("testHooks.refuseNext"),
                                    refuseAs: null, refusedID: null,
                                    helloVersions: sessionStorage.getItem("testHooks.helloVersions") });
sessionStorage.removeItem("testHooks.refuseNext");
sessionStorage.removeItem("testHooks.helloVersions");
const addEventListener = WebSocket.prototype.addEventListener;
WebSocket.prototype.addEventListener = function (type, listener, options) {
    const socket = this;
    if (!hooks.sockets.includes(socket)) hooks.sockets.push(socket);
    return addEventListener.call(socket, type, (event) => {
        if (hooks.dead.has(socket) && type === "close") return hooks.held.push(() => listener(event));
        if (hooks.dead.has(socket) && type === "message") return;
        if (type === "message" && hooks.refusedID !== null && JSON.parse(event.data).id === hooks.refusedID) {
            const frame = JSON.parse(event.data);
            hooks.refusedID = null;
            frame.code = hooks.refuseAs;
            return listener(new MessageEvent("message", { data: JSON.stringify(frame) }));
        }
        if (type === "message" && hooks.heldID !== null && JSON.parse(event.data).id === hooks.heldID) {
            hooks.heldID = null;
            return hooks.held.push(() => listener(event));
        }
        listener(event);
    }, options);
};
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
    const frame = JSON.parse(data);
    if (frame.type === "hello" && hooks.helloVersions !== null) {
        frame.versions = JSON.parse(hooks.helloVersions);
        data = JSON.stringify(frame);
    }
    if (frame.type === hooks.refuseNext) {
        hooks.refuseNext = null;
        if (hooks.refuseAs !== null) hooks.refusedID = frame.id;
        frame.type = "refusedByTheTest";
        data = JSON.stringify(frame);
    }
    this.sentTypes ??= {};
    this.sentTypes[frame.type] = (this.sentTypes[frame.type] ?? 0) + 1;
    if (hooks.dead.has(this)) return;
    if (frame.type === hooks.holdSend) {
        hooks.holdSend = null;
        return hooks.held.push(() => send.call(this, data));
    }
    if (frame.type === hooks.holdNext) {
        hooks.holdNext = null;
        hooks.heldID = frame.id;
    }
    return send.call(this, data);
};
hooks.release = () => hooks.held.splice(0).forEach((deliver) => deliver());
"""

# Releases what the page's test hooks hold back, and returns once the page has handled it (the answers' promises
# settle in microtasks, which all run before the timer).
RELEASE_HELD = "const done = arguments[arguments.length - 1]; window.testHooks.release(); setTimeout(done, 0);"


def api_request(base_url, token, frame):
    """POST /v1/requests: one request as on the WebSocket; returns the result's fields."""
    request = urllib.request.Request(base_url + "/v1/requests", data=json.dumps(frame).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def check_http(base_url):
    """Content types and the Content-Security-Policy of the served files."""
    expected = {"/": "text/html", "/js/app.js": "text/javascript", "/app.css": "text/css",
                "/icon.svg": "image/svg+xml"}
    for path, content_type in expected.items():
        with urllib.request.urlopen(base_url + path, timeout=5) as response:
            got = response.headers.get("Content-Type", "")
            if not got.startswith(content_type):
                raise Failure(f"GET {path}: Content-Type {got!r}, expected {content_type}")
            policy = response.headers.get("Content-Security-Policy", "")
            for directive in ("default-src 'none'", "script-src 'self'", "connect-src 'self' ws://127.0.0.1:"):
                if directive not in policy:
                    raise Failure(f"GET {path}: the Content-Security-Policy {policy!r} lacks {directive!r}")
            if response.headers.get("X-Content-Type-Options") != "nosniff":
                raise Failure(f"GET {path}: no X-Content-Type-Options: nosniff")
    for path in ("/../Package.swift", "/%2e%2e/Package.swift", "/js/..%2f..%2fPackage.swift"):
        try:
            urllib.request.urlopen(base_url + path, timeout=5)
            raise Failure(f"a path with '..' was served: {path}")
        except urllib.error.HTTPError as error:
            if error.code not in (400, 404):
                raise Failure(f"a path with '..' answered {error.code}: {path}") from None


def check_web_root_holding_database(binary, artifacts):
    """The server refuses to serve a folder that holds its database (and signing secret) as its web root."""
    folder = os.path.join(artifacts, "web-root-with-database")
    os.makedirs(folder)
    result = subprocess.run([binary, "--database", os.path.join(folder, "chat.sqlite"), "--web-root", folder,
                             "--port", "0"], capture_output=True, text=True, timeout=60)
    if result.returncode == 0 or "--web-root" not in result.stderr:
        raise Failure(f"a web root holding the database was not refused: {result.returncode}, {result.stderr!r}")
    if os.listdir(folder):
        raise Failure(f"the refused server wrote {os.listdir(folder)}")


def check_second_server_refused(binary, database):
    """A second server on the database of a running one refuses to start (before it migrates anything)."""
    result = subprocess.run([binary, "--database", database, "--port", "0"], capture_output=True, text=True,
                            timeout=60)
    if result.returncode == 0 or "Another chatkit-server" not in result.stderr:
        raise Failure(f"a second server on the same database was not refused: {result.returncode}, "
                      f"{result.stderr!r}")


def run(args, artifacts):
    port = args.port or free_port()
    database = os.path.join(artifacts, "chat.sqlite")
    server = Server(os.path.abspath(args.server), database, port, os.path.join(artifacts, "server.log"),
                    os.path.abspath(args.web_root) if args.web_root else None)
    pages = []
    step_number = [0]

    def shots(step):
        step_number[0] += 1
        name = f"{step_number[0]:02d}-{step}"
        for page in pages:
            page.screenshot(name)
        print(f"  step {name}")

    try:
        check_web_root_holding_database(os.path.abspath(args.server), artifacts)
        server.start()
        check_second_server_refused(os.path.abspath(args.server), database)
        check_http(server.url)
        alice = Page("alice", server.url, artifacts)
        pages.append(alice)
        bob = Page("bob", server.url, artifacts)
        pages.append(bob)

        # Both sign up.
        alice.open()
        bob.open()
        alice.sign_up("alice", "correct horse battery", "Alice")
        bob.sign_up("bob", "staple battery horse", "Bob")
        shots("signed-up")

        # Alice starts a direct chat with Bob, by his username; a name nobody has is refused.
        alice.find("#new-direct summary").click()
        alice.visible("#direct-username").send_keys("nobody")
        alice.find("#direct-form button[type=submit]").click()
        alice.wait(lambda: "nobody" in alice.find("#direct-error").text, "the error about an unknown username")
        alice.find("#direct-username").clear()
        alice.find("#direct-username").send_keys("Bob")
        alice.find("#direct-form button[type=submit]").click()
        alice.wait(lambda: alice.find("#conversation-title").text == "Bob", "the direct chat with Bob to open")
        bob.open_conversation("Alice")
        # Both were online when the chat began: the server introduces them, so each sees the other's dot.
        for page in (alice, bob):
            page.wait(lambda page=page: page.js("return document.querySelector('#conversation-presence')"
                                                "?.classList.contains('online')"), "the other's presence dot")
        shots("direct-chat")

        # Alice types: Bob sees it; she sends: Bob sees the message and the indicator goes away.
        alice.type("Hi Bob")
        # Names are isolated for bidirectional text (U+2068 ... U+2069), which the shown text leaves alone.
        bob.wait(lambda: bob.find("#typing-indicator").text == "\u2068Alice\u2069 is typing…",
                 "Alice's typing indicator")
        shots("alice-typing")
        alice.find("#composer-input").send_keys(Keys.ENTER)
        alice.wait_for_message("Hi Bob")
        bob.wait_for_message("Hi Bob")
        bob.wait(lambda: bob.find("#typing-indicator").text == "", "Alice's typing indicator to go away")
        # Bob has the chat open, so he read it: Alice sees the read receipt.
        alice.wait(lambda: alice.js("return document.querySelector('#messages .receipt')?.textContent") == "Read",
                   "the read receipt on Alice's message")
        shots("alice-sent-read")

        # And the other way round.
        bob.type("Hello Alice")
        alice.wait(lambda: alice.find("#typing-indicator").text == "\u2068Bob\u2069 is typing…",
                   "Bob's typing indicator")
        shots("bob-typing")
        bob.find("#composer-input").send_keys(Keys.ENTER)
        bob.wait_for_message("Hello Alice")
        alice.wait_for_message("Hello Alice")
        bob.wait(lambda: bob.js("return document.querySelector('#messages li.mine .receipt')?.textContent") == "Read",
                 "the read receipt on Bob's message")
        shots("bob-sent-read")

        # The pages made the client message IDs, growing with time (the server's index of them is cheapest so).
        reader = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            ids = [row[0] for row in reader.execute("SELECT clientMessageID FROM message ORDER BY rowNumber")]
        finally:
            reader.close()
        assert len(ids) == 2, ids
        assert all(re.fullmatch(r"web-[0-9a-f]{12}-[0-9a-f]{4}-[0-9a-f]{16}", key) for key in ids), ids
        assert ids == sorted(ids), ids

        # Alice reacts to Bob's message; Bob edits it; Alice deletes a message of hers.
        alice.react("Hello Alice", "👍")
        bob.wait(lambda: bob.js("return document.querySelector('#messages .reaction')?.textContent") == "👍 1",
                 "Alice's 👍 on Bob's message")
        bob.message_action("Hello Alice", "[data-action=edit]")
        bob.wait(lambda: bob.visible("#messages .edit-form textarea").send_keys(Keys.END, "!", Keys.ENTER) or True,
                 "the edit box")
        alice.wait_for_message("Hello Alice!")
        alice.wait(lambda: alice.js("return document.querySelector('#messages .edited') !== null"),
                   "the edited mark")
        # A message of two lines keeps its line break through the edit box: saved unchanged, then edited.
        bob.type("Line one")
        bob.find("#composer-input").send_keys(Keys.SHIFT, Keys.ENTER)
        bob.type("line two")
        bob.find("#composer-input").send_keys(Keys.ENTER)
        alice.wait_for_message("Line one\nline two")
        bob.message_action("Line one\nline two", "[data-action=edit]")
        bob.wait(lambda: bob.visible("#messages .edit-form textarea").send_keys(Keys.ENTER) or True, "the edit box")
        bob.wait(lambda: bob.js("return document.querySelector('#messages .edit-form')") is None,
                 "the unchanged edit to close")
        bob.message_action("Line one\nline two", "[data-action=edit]")
        bob.wait(lambda: bob.visible("#messages .edit-form textarea").send_keys(Keys.CONTROL, Keys.END) or True,
                 "the edit box")
        bob.find("#messages .edit-form textarea").send_keys(", edited", Keys.ENTER)
        alice.wait_for_message("Line one\nline two, edited")
        alice.send("Oops, wrong chat")
        bob.wait_for_message("Oops, wrong chat")
        alice.message_action("Oops, wrong chat", "[data-action=delete]")
        bob.wait(lambda: "Oops, wrong chat" not in bob.message_bodies()
                 and bob.js("return document.querySelector('#messages li.deleted') !== null"),
                 "the deleted message's tombstone")
        shots("react-edit-delete")

        # Alice creates a group with Bob and writes in it: Bob, in the direct chat, sees its unread count.
        alice.find("#new-group summary").click()
        alice.visible("#group-title").send_keys("Launch")
        alice.find("#group-members").send_keys("bob")
        alice.find("#group-form button[type=submit]").click()
        alice.wait(lambda: alice.find("#conversation-title").text == "Launch", "the group to open")
        alice.send("Group hello")
        bob.wait(lambda: bob.js("return arguments[0]?.querySelector('.badge')?.textContent",
                                bob.conversation_item("Launch")) == "1", "the unread count of the group in Bob's list")
        shots("group-unread")
        bob.open_conversation("Launch")
        bob.wait_for_message("Group hello")
        bob.wait(lambda: bob.js("return arguments[0]?.querySelector('.badge')", bob.conversation_item("Launch"))
                 is None, "the unread count to clear")
        # A draft stays with its conversation: Bob starts a message in the group and opens the chat with Alice,
        # whose box is empty (Enter there must not send the group's draft to Alice); back in the group, it is there.
        bob.type("Draft for the group")
        bob.open_conversation("Alice")
        bob.wait(lambda: bob.find("#composer-input").get_attribute("value") == "", "an empty box in Alice's chat")
        bob.open_conversation("Launch")
        bob.wait(lambda: bob.find("#composer-input").get_attribute("value") == "Draft for the group",
                 "the group's draft to come back")
        bob.js("document.getElementById('composer-input').value = ''")
        bob.open_conversation("Alice")
        alice.open_conversation("Bob")

        # Bob reloads: he is still signed in, the chat reopens and the history is there. Pages of two messages
        # make the page fetch the history in several pages.
        fragment = bob.driver.current_url.partition("#")[2]
        # Any other `?pageSize=` than a whole number from 1 to the server's largest page (500) reads pages of the
        # default 50: the server refuses a negative or fractional limit, and the history would never load. After
        # each reload the page's history requests are recorded while Bob opens the group (not loaded yet).
        record_history_limits = (
            "const limits = (window.historyLimits = []); const send = WebSocket.prototype.send;"
            "WebSocket.prototype.send = function (data) {"
            "  const frame = JSON.parse(data); if (frame.type === 'history') limits.push(frame.limit);"
            "  return send.call(this, data); };")
        for value, expected in (("-5", 50), ("0", 50), ("2.5", 50), ("abc", 50), ("100000", 50), ("3", 3)):
            bob.driver.get(f"{server.url}/?pageSize={value}#{fragment}")
            bob.wait_online()
            bob.wait(lambda: bob.find("#conversation-title").text == "Alice", f"the chat to reopen (?pageSize={value})")
            for text in ("Hi Bob", "Hello Alice!"):
                bob.wait_for_message(text)
            bob.js(record_history_limits)
            bob.open_conversation("Launch")
            bob.wait_for_message("Group hello")
            limits = bob.js("return window.historyLimits")
            if not limits or any(limit != expected for limit in limits):
                raise Failure(f"?pageSize={value}: history was read with the limits {limits}, not {expected}")
        bob.driver.get(f"{server.url}/?pageSize=2#{fragment}")
        bob.wait_online()
        bob.wait(lambda: bob.find("#conversation-title").text == "Alice", "the chat to reopen after the reload")
        for text in ("Hi Bob", "Hello Alice!"):
            bob.wait_for_message(text)
        # A new session is told who is online: Bob sees Alice's presence dot.
        bob.wait(lambda: bob.js("return document.querySelector('#conversation-presence')"
                                "?.classList.contains('online')"), "Alice's presence dot to be online")
        shots("bob-reloaded")

        # A history the server refuses (here: the first request of this page turned into a limit it does not take)
        # is said in the pane, with a button that loads it again; the pane was left empty, the error in the console.
        bob.js("window.historyRefusals = 1; const send = WebSocket.prototype.send;"
               "WebSocket.prototype.send = function (data) {"
               "  const frame = JSON.parse(data);"
               "  if (frame.type === 'history' && window.historyRefusals > 0) {"
               "    window.historyRefusals -= 1; data = JSON.stringify({ ...frame, limit: -1 }); }"
               "  return send.call(this, data); };")
        bob.open_conversation("Launch")
        bob.wait(lambda: bob.find("#history-error").is_displayed()
                 and "could not be loaded" in bob.find("#history-error").text, "the history's error in the pane")
        shots("history-error")
        bob.find("#history-retry").click()
        bob.wait_for_message("Group hello")
        bob.wait(lambda: not bob.find("#history-error").is_displayed(), "the history's error to go")
        bob.open_conversation("Alice")

        # An answer the server read before a change whose event reached the page first must not put the older state
        # back. Alice puts Bob in a group "Race" and writes; Bob's page reloads with the test's hooks (TEST_HOOKS).
        hooks = bob.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TEST_HOOKS})
        alice_token = alice.js("return JSON.parse(sessionStorage.getItem('chatkit.session')).accessToken")
        bob_user_id = bob.js("return JSON.parse(sessionStorage.getItem('chatkit.session')).user.id")
        race = api_request(server.url, alice_token, {"type": "createConversation", "id": "race", "kind": "group",
                                                     "title": "Race", "memberIDs": [bob_user_id]})["conversation"]
        race_one = api_request(server.url, alice_token, {"type": "send", "id": "r1", "conversationID": race["id"],
                                                         "clientMessageID": "race-1", "body": "Race one"})["message"]
        # A server that shares no protocol version with the page (here its hello names only version 99) refuses the
        # session for good: the page says why and does not try again.
        bob.js("sessionStorage.setItem('testHooks.helloVersions', '[99]')")
        bob.driver.refresh()
        bob.wait(lambda: "Reload the page" in bob.find("#connection-status").text, "the refused version to be said")
        status = bob.find("#connection-status").text
        if "protocol version" not in status or "reconnecting" in status or bob.connection_state() != "offline":
            raise Failure(f"the page refused for its protocol version says {status!r} ({bob.connection_state()})")
        shots("no-shared-version")
        # The server refuses the conversation list the reloaded page reads first: the page reads it again by itself
        # (its socket stays as it is), then opens the conversation in its address.
        bob.js("sessionStorage.setItem('testHooks.refuseNext', 'listConversations')")
        bob.driver.refresh()
        bob.wait_online()

        def race_item():
            """The title, unread count and preview of Bob's list item of the group (or None)."""
            return bob.js("const item = [...document.querySelectorAll('#conversation-list .conversation-item')]"
                          ".find((b) => b.querySelector('.item-title')?.textContent.startsWith('Race'));"
                          "return item && [item.querySelector('.item-title').textContent,"
                          " item.querySelector('.badge')?.textContent ?? '', item.querySelector('.item-preview')"
                          ".textContent]")
        bob.wait(lambda: race_item() == ["Race", "1", "Race one"], f"the group in Bob's list (have {race_item()})")
        bob.wait(lambda: bob.find("#conversation-title").text == "Alice", "the chat in the address to open")
        reads = bob.js("return window.testHooks.sockets.at(-1).sentTypes")
        if reads.get("refusedByTheTest") != 1 or reads.get("listConversations", 0) < 1 or reads.get("hello") != 1:
            raise Failure(f"the refused list was not read again on the same socket: {reads}")
        # The conversation list the page reads after reconnecting is held back while Alice writes again and renames
        # the group: once it arrives, the list still shows the new name, message and unread count.
        bob.js("window.testHooks.holdNext = 'listConversations'; window.testHooks.sockets.at(-1).close()")
        bob.wait(lambda: bob.js("return window.testHooks.held.length") == 1, "the held conversation list")
        race_two = api_request(server.url, alice_token, {"type": "send", "id": "r2", "conversationID": race["id"],
                                                         "clientMessageID": "race-2", "body": "Race two"})["message"]
        api_request(server.url, alice_token, {"type": "rename", "id": "r3", "conversationID": race["id"],
                                              "title": "Race track"})
        renamed = ["Race track", "2", "Race two"]
        bob.wait(lambda: race_item() == renamed, f"the events in Bob's list (have {race_item()})")
        bob.driver.execute_async_script(RELEASE_HELD)
        if race_item() != renamed:
            raise Failure(f"the older conversation list put back {race_item()}, not {renamed}")
        # The same for a history: Alice edits both messages while the history Bob's page asked for is held back.
        bob.js("window.testHooks.holdNext = 'history'")
        bob.open_conversation("Race track")
        bob.wait(lambda: bob.js("return window.testHooks.held.length") == 1, "the held history")
        for number, message in ((1, race_one), (2, race_two)):
            api_request(server.url, alice_token, {"type": "edit", "id": f"e{number}", "messageID": message["id"],
                                                  "body": f"{message['body']}, edited"})
        bob.wait(lambda: (race_item() or [""] * 3)[2] == "Race two, edited", "the edit in Bob's list")
        bob.driver.execute_async_script(RELEASE_HELD)
        bob.wait(lambda: bob.message_bodies() == ["Race one, edited", "Race two, edited"],
                 f"the edited messages, not the history's older copies (have {bob.message_bodies()})")
        shots("answers-older-than-events")
        # A send the server refuses for a fault it may recover from (here `storageFailure`) stays pending and goes out
        # again, before the message typed after it: both are stored, in the order typed.
        bob.js("window.testHooks.refuseNext = 'send'; window.testHooks.refuseAs = 'storageFailure'")
        bob.send_keys_to_composer("Stored first")
        bob.send_keys_to_composer("Stored second")
        bob.wait(lambda: bob.js("return window.testHooks.refusedID === null && !document.querySelector("
                                "'#messages li.pending, #messages li.failed')")
                 and bob.message_bodies()[-2:] == ["Stored first", "Stored second"],
                 f"the refused send to be stored before the next (have {bob.message_bodies()})")
        if bob.js("return window.testHooks.sockets.at(-1).sentTypes").get("refusedByTheTest") != 1:
            raise Failure("the send was not refused by the test")
        bob.js("window.testHooks.refuseAs = null")

        # Messages arriving while the open conversation is being marked read: the page marks it read up to the last
        # one, and does not read the whole conversation list again (a busy chat would have it read at every
        # message). Bob's markRead of "Busy one" is held back until "Busy two" has arrived, so its answer and its
        # marker event are behind the conversation's last message. Counted on this socket until the dead network
        # below has it given up (at least a ping's time limit later).
        bob.open_conversation("Alice")
        direct_id = urllib.parse.unquote(bob.driver.current_url.partition("#c=")[2])
        bob.js("window.busySocket = window.testHooks.sockets.at(-1)")
        sent_before = bob.js("return { ...window.busySocket.sentTypes }")
        bob.js("window.testHooks.holdSend = 'markRead'")
        api_request(server.url, alice_token, {"type": "send", "id": "busy1", "conversationID": direct_id,
                                              "clientMessageID": "busy-1", "body": "Busy one"})
        bob.wait(lambda: bob.js("return window.testHooks.held.length") == 1, "Bob's markRead held back")
        api_request(server.url, alice_token, {"type": "send", "id": "busy2", "conversationID": direct_id,
                                              "clientMessageID": "busy-2", "body": "Busy two"})
        bob.wait_for_message("Busy two")
        bob.driver.execute_async_script(RELEASE_HELD)
        alice.wait(lambda: alice.js("return arguments[0]?.querySelector('.receipt')?.textContent",
                                    alice.message_item("Busy two")) == "Read", "Bob's read receipt on Busy two")

        # A dead network: the page's socket delivers nothing, and its `close` event is late. The ping that is not
        # answered shows the page offline at once (a slow answer to another request, here Bob's typing, does not
        # give the socket up), and a new socket takes over; the old socket's late `close` changes nothing.
        bob.js("window.testHooks.dead.add(window.testHooks.sockets.at(-1))")
        bob.type("After a dead connection")
        # A ping goes out every 25 s, and is given up on after 15 s.
        bob.wait(lambda: bob.connection_state() != "online", "the page to give up its dead socket", 25 + 15 + 10)
        shots("dead-socket-given-up")
        sent_after = bob.js("return window.busySocket.sentTypes")
        if sent_after.get("listConversations", 0) != sent_before.get("listConversations", 0):
            raise Failure(f"marking the open conversation read read the conversation list again: {sent_before}, "
                          f"then {sent_after}")
        if sent_after.get("markRead", 0) < sent_before.get("markRead", 0) + 2:
            raise Failure(f"the open conversation was not marked read up to its last message: {sent_after}")
        bob.wait_online(RECONNECT_TIMEOUT)
        bob.driver.execute_async_script(RELEASE_HELD)
        if bob.connection_state() != "online":
            raise Failure(f"the dead socket's late close event left the page {bob.connection_state()}")
        bob.find("#composer-input").send_keys(Keys.ENTER)
        bob.wait_for_message("After a dead connection")
        alice.wait_for_message("After a dead connection")
        bob.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument", {"identifier": hooks["identifier"]})

        # The server restarts. Alice writes while it is down; the message waits, then goes out on reconnect.
        server.stop()
        for page in pages:
            page.wait(lambda page=page: page.connection_state() in ("offline", "connecting"), "the page to notice")
        # Bob edits his message while the server is down: the edit is not stored, so the edit box comes back with
        # what he typed, and says why; Escape gives up.
        bob.message_action("Hello Alice!", "[data-action=edit]")
        bob.wait(lambda: bob.visible("#messages .edit-form textarea").send_keys(Keys.END, " (edited offline)", Keys.ENTER)
                 or True, "the edit box")
        bob.wait(lambda: bob.js("return document.querySelector('#messages .edit-form textarea')?.value")
                 == "Hello Alice! (edited offline)", "the edit box to come back with the text")
        bob.wait(lambda: "did not work" in bob.find("#action-error").text, "the visible error")
        bob.find("#messages .edit-form textarea").send_keys(Keys.ESCAPE)
        alice.type("Sent while you were away")
        alice.find("#composer-input").send_keys(Keys.ENTER)
        alice.wait(lambda: alice.js("return document.querySelector('#messages li.pending .body')?.textContent")
                   == "Sent while you were away", "the pending message")
        shots("server-down")
        server.start()
        for page in pages:
            page.wait_online(RECONNECT_TIMEOUT)
        for page in pages:
            page.wait(lambda page=page: page.js("return document.querySelector('#conversation-presence')"
                                                "?.classList.contains('online')"), "the other's presence dot")
        bob.wait_for_message("Sent while you were away")
        alice.wait(lambda: alice.js("return document.querySelector('#messages li.pending, #messages li.failed')")
                   is None, "the pending message to be sent")
        alice.wait_for_message("Sent while you were away")
        bob.send("Welcome back")
        alice.wait_for_message("Welcome back")
        alice.send("Still chatting")
        bob.wait_for_message("Still chatting")
        if bob.message_bodies().count("Sent while you were away") != 1:
            raise Failure(f"the resent message arrived more than once: {bob.message_bodies()}")
        shots("after-restart")

        # Bob's page goes into the back/forward cache, and the page opened in its place in the tab refreshes the login
        # (the refresh token rotates; the old one, presented again, would make the server end the login). Shown again,
        # Bob's page reloads, and so connects with the tokens the tab stores (expired here: it refreshes them). The
        # cache's events are dispatched here: Chrome keeps no page with an open WebSocket in the cache.
        bob.js("window.beforeTheCache = true;"
               "window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))")
        rotated = bob.driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const tokens = JSON.parse(sessionStorage.getItem('chatkit.session'));
            fetch('/v1/auth/refresh', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                        body: JSON.stringify({ refreshToken: tokens.refreshToken }) })
                .then(async (response) => {
                    if (!response.ok) return done(`the refresh answered ${response.status}`);
                    const answer = await response.json();
                    sessionStorage.setItem('chatkit.session',
                        JSON.stringify({ ...answer, loginID: tokens.loginID, accessTokenExpiresAt: 0 }));
                    done({ refreshToken: answer.refreshToken });
                }, (error) => done(String(error)));""")
        if not isinstance(rotated, dict) or not rotated.get("refreshToken"):
            raise Failure(f"the test could not refresh Bob's login as another page would: {rotated}")
        rotated = rotated["refreshToken"]
        bob.js("window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))")

        def reloaded():
            try:
                return bob.js("return window.beforeTheCache === undefined && document.readyState === 'complete'")
            except WebDriverException:
                return False  # between the two documents
        bob.wait(reloaded, "Bob's page, back from the cache, to reload")
        bob.wait_online()
        if json.loads(bob.js("return sessionStorage.getItem('chatkit.session')"))["refreshToken"] == rotated:
            raise Failure("Bob's page, back from the cache, connected without the tokens the tab stored meanwhile")

        # A message typed while the server is down survives the page itself: Alice's page goes away before the
        # server is back, and the page she opens again sends it, once.
        server.stop()
        alice.wait(lambda: alice.connection_state() in ("offline", "connecting"), "Alice's page to notice")
        alice.send_keys_to_composer("Typed before a reload")
        alice.wait(lambda: "Typed before a reload" in (alice.js(
            "return Object.keys(sessionStorage).filter(k => k.startsWith('chatkit.outbox.'))"
            ".map(k => sessionStorage.getItem(k)).join('')") or ""), "the message saved in the tab's outbox")
        fragment = alice.driver.current_url.partition("#")[2]
        alice.driver.get("about:blank")
        server.start()
        alice.driver.get(f"{server.url}/#{fragment}")
        alice.wait_online(RECONNECT_TIMEOUT)
        bob.wait_online(RECONNECT_TIMEOUT)
        bob.wait_for_message("Typed before a reload")
        alice.wait_for_message("Typed before a reload")
        alice.wait(lambda: alice.js("return document.querySelector('#messages li.pending, #messages li.failed')")
                   is None, "the reloaded page's outbox to be sent")
        alice.wait(lambda: alice.js("return Object.keys(sessionStorage).filter(k => k.startsWith('chatkit.outbox.'))"
                                    ".length") == 0, "the saved outbox to empty")
        if bob.message_bodies().count("Typed before a reload") != 1:
            raise Failure(f"the message kept across the reload arrived more than once: {bob.message_bodies()}")
        shots("after-reload-with-outbox")

        # A conversation list larger than one answer: Alice puts Bob in 12 groups whose last messages are 60 KB
        # each (the server cuts a list at about 512 KiB), and Bob's reloaded page reads every page of it.
        token = alice.js("return JSON.parse(sessionStorage.getItem('chatkit.session')).accessToken")
        bob_id = bob.js("return JSON.parse(sessionStorage.getItem('chatkit.session')).user.id")
        for number in range(1, 13):
            created = api_request(server.url, token, {"type": "createConversation", "id": f"g{number}",
                                                      "kind": "group", "title": f"Big {number}",
                                                      "memberIDs": [bob_id]})
            api_request(server.url, token, {"type": "send", "id": f"b{number}",
                                            "conversationID": created["conversation"]["id"],
                                            "clientMessageID": f"big-{number}", "body": f"{number} " + "x" * 60000})
        first_page = api_request(server.url, token, {"type": "listConversations", "id": "list"})
        if not first_page.get("hasMore"):
            raise Failure(f"the list of {len(first_page['conversations'])} large conversations came in one page")
        bob_fragment = bob.driver.current_url.partition("#")[2]
        bob.driver.get(f"{server.url}/#{bob_fragment}")
        bob.wait_online()
        for number in range(1, 13):
            bob.wait(lambda number=number: bob.conversation_item(f"Big {number}") is not None,
                     f"the group Big {number} in Bob's list")
        bob.wait(lambda: bob.conversation_item("Alice") is not None, "the direct chat, on a later page of the list")
        shots("long-list")

        # Bob's page is offline (its socket closed, new ones held back) while Dave, whom it never met, starts a
        # direct chat with him and writes. The page refused its own requests until the catch-up ended, so the names
        # the catch-up brought were never loaded: the chat stayed "Someone". They load once it is synced.
        bob.js("window.testSockets = []; const send = WebSocket.prototype.send;"
               "WebSocket.prototype.send = function (data) {"
               "  if (!window.testSockets.includes(this)) window.testSockets.push(this);"
               "  return send.call(this, data); };"
               "const Original = window.WebSocket; window.holdSockets = true;"
               "window.WebSocket = function (url, protocols) {"
               "  if (window.holdSockets) throw new Error('held back by the test');"
               "  return new Original(url, protocols); };"
               "window.WebSocket.prototype = Original.prototype;")
        bob.open_conversation("Big 1")  # a request, so that the hook sees the open socket
        bob.wait(lambda: bob.js("return window.testSockets.length") > 0, "the page's socket")
        bob.js("window.testSockets.forEach((socket) => socket.close())")
        bob.wait(lambda: bob.connection_state() != "online", "Bob's page to go offline")
        signup = urllib.request.Request(
            server.url + "/v1/auth/signup", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"username": "dave", "password": "correct horse battery", "displayName": "Dave"}).encode())
        with urllib.request.urlopen(signup, timeout=10) as response:
            dave_token = json.loads(response.read())["accessToken"]
        chat = api_request(server.url, dave_token, {"type": "createConversation", "id": "d", "kind": "direct",
                                                    "memberIDs": [bob_id]})
        api_request(server.url, dave_token, {"type": "send", "id": "s", "conversationID": chat["conversation"]["id"],
                                             "clientMessageID": "dave-1", "body": "Hi from Dave"})
        bob.js("window.holdSockets = false")
        bob.wait_online(RECONNECT_TIMEOUT)
        bob.wait(lambda: bob.conversation_item("Dave") is not None, "the direct chat met while offline, named Dave")
        bob.open_conversation("Dave")
        bob.wait_for_message("Hi from Dave")
        sender = bob.js("return [...document.querySelectorAll('#messages li.message')].find((li) =>"
                        " li.querySelector('.body')?.textContent === 'Hi from Dave')?.querySelector('.sender')"
                        "?.textContent")
        if sender != "Dave":
            raise Failure(f"Dave's message shows the sender {sender!r}")
        shots("met-while-offline")

        # Bob's page is closed while Alice writes; it comes back without the chat open. The message reaches it in
        # the conversation list (a page without a cursor has no catch-up), and Alice sees it delivered.
        bob.driver.get(f"{server.url}/app.css")
        alice.open_conversation("Bob")
        alice.send("While you were away")
        bob.driver.get(f"{server.url}/")
        bob.wait_online()
        alice.wait(lambda: alice.js("return [...document.querySelectorAll('#messages li.mine')].at(-1)"
                                    "?.querySelector('.receipt')?.textContent") == "Delivered",
                   "Alice's message to be delivered to Bob's page, which has not opened it")
        bob.open_conversation("Alice")

        # A tab copied from Alice's (duplicated, or opened from it) starts with a copy of its sessionStorage, her
        # refresh token included; two tabs refreshing one token would make the server end her login in both. The
        # copy starts signed out, and Alice's tab goes on.
        original = alice.driver.current_window_handle
        stored = alice.js("return Object.fromEntries(Object.keys(sessionStorage)"
                          ".map((k) => [k, sessionStorage.getItem(k)]))")
        # The copy's outbox is kept (a tab taken for a copy may be none: a reload whose predecessor held the
        # login's lock a while longer), and goes out when Alice logs in there: a message Alice's tab sent already is
        # not stored twice, and one only the copy holds is stored once, after it.
        alice_id = json.loads(stored["chatkit.session"])["user"]["id"]
        direct_id = urllib.parse.unquote(alice.driver.current_url.partition("#c=")[2])
        api_request(server.url, json.loads(stored["chatkit.session"])["accessToken"],
                    {"type": "send", "id": "copied", "conversationID": direct_id, "clientMessageID": "web-copied-sent",
                     "body": "Sent by the first tab"})
        bob.wait_for_message("Sent by the first tab")
        outbox_key = f"chatkit.outbox.{alice_id}"
        stored[outbox_key] = json.dumps([
            {"clientMessageID": "web-copied-sent", "conversationID": direct_id, "body": "Sent by the first tab",
             "status": "pending", "error": None, "createdAt": int(time.time() * 1000)},
            {"clientMessageID": "web-copied-unsent", "conversationID": direct_id, "body": "Only in the copied tab",
             "status": "pending", "error": None, "createdAt": int(time.time() * 1000) + 1}])
        # Then again in a tab without Web Locks (as a page on plain HTTP to another host is): the copy asks on a
        # BroadcastChannel, and Alice's page answers that it holds the login.
        for without_locks in (False, True):
            alice.driver.switch_to.new_window("tab")
            if without_locks:
                alice.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                             {"source": "delete Navigator.prototype.locks;"})
            alice.driver.get(f"{server.url}/app.css")  # the same origin, without the app
            alice.js("for (const [k, v] of Object.entries(arguments[0])) sessionStorage.setItem(k, v)", stored)
            alice.driver.get(f"{server.url}/")
            if without_locks and alice.js("return 'locks' in navigator"):
                raise Failure("the tab still has Web Locks")
            alice.wait(lambda: alice.find("#auth-view").is_displayed()
                       and "another signed-in tab" in alice.find("#auth-error").text, "the copy to start signed out")
            if alice.js("return sessionStorage.getItem('chatkit.session')") is not None:
                raise Failure("the copied tab kept the copied login")
            if alice.js("return sessionStorage.getItem(arguments[0])", outbox_key) != stored[outbox_key]:
                raise Failure("the copied tab lost its unsent messages")
            if "not sent yet" not in alice.find("#auth-error").text:
                raise Failure(f"the copied tab does not say it holds unsent messages: {alice.find('#auth-error').text!r}")
            if not without_locks:
                shots("copied-tab")
                alice.find("#username").send_keys("alice")
                alice.find("#password").send_keys("correct horse battery", Keys.ENTER)
                alice.visible("#chat-view")
                alice.wait_online()
                bob.wait_for_message("Only in the copied tab")
                alice.wait(lambda: alice.js("return sessionStorage.getItem(arguments[0])", outbox_key) is None,
                           "the copied tab's outbox to be sent")
                bodies = bob.message_bodies()
                if bodies.count("Sent by the first tab") != 1 or bodies.count("Only in the copied tab") != 1 \
                        or bodies.index("Sent by the first tab") > bodies.index("Only in the copied tab"):
                    raise Failure(f"the copied tab's outbox was not stored once each, in order: {bodies}")
                # This page goes into the back/forward cache, and the page opened in its place in the tab logs out
                # (its request not reaching the server, say: a page forgets the login at once all the same). Back,
                # this page reloads, and so shows what the tab holds now (nobody signed in), instead of chatting on
                # with a login the tab gave up. (The cache's events are dispatched here, as for Bob's page above.)
                alice.js("window.dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }))")
                copy_tokens = json.loads(alice.js("return sessionStorage.getItem('chatkit.session')"))
                alice.js("sessionStorage.removeItem('chatkit.session');"
                         "window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))")
                alice.visible("#auth-form")
                logout = urllib.request.Request(server.url + "/v1/auth/logout", method="POST",
                                                data=json.dumps({"refreshToken": copy_tokens["refreshToken"]}).encode(),
                                                headers={"Content-Type": "application/json"})
                urllib.request.urlopen(logout, timeout=10).close()
            alice.driver.close()
            alice.driver.switch_to.window(original)
        alice.send("Still here after the copy")
        bob.wait_for_message("Still here after the copy")

        # A refresh whose answer is lost (the server rotated the token; the page got a network error) is tried again
        # at once, within the 30 s in which the server answers the old token again, not after the connection's
        # backoff: Bob's page, its access token expired, loses the answer to its first refresh, and goes online
        # without ever saying it is offline.
        lose_refresh = bob.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": """
            window.refreshes = 0;
            window.connectionStates = [];
            new MutationObserver((changes) => changes.forEach(({ target }) => {
                if (target.id === "connection-status") window.connectionStates.push(target.dataset.state);
            })).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-state"] });
            const realFetch = window.fetch;
            window.fetch = async (input, init) => {
                if (!String(input).endsWith("/v1/auth/refresh") || window.refreshes++ > 0) return realFetch(input, init);
                await realFetch(input, init);
                throw new TypeError("the test lost this answer");
            };"""})
        old_refresh_token = json.loads(bob.js("return sessionStorage.getItem('chatkit.session')"))["refreshToken"]
        bob.js("const tokens = JSON.parse(sessionStorage.getItem('chatkit.session'));"
               "sessionStorage.setItem('chatkit.session', JSON.stringify({ ...tokens, accessTokenExpiresAt: 0 }))")
        bob.driver.refresh()
        bob.wait_online()
        states = bob.js("return window.connectionStates")
        if bob.js("return window.refreshes") != 2 or "offline" in states:
            raise Failure(f"the lost refresh was not tried again at once: {bob.js('return window.refreshes')} "
                          f"refreshes, states {states}")
        if json.loads(bob.js("return sessionStorage.getItem('chatkit.session')"))["refreshToken"] == old_refresh_token:
            raise Failure("Bob's page kept the refresh token it exchanged")
        bob.driver.execute_cdp_cmd("Page.removeScriptToEvaluateOnNewDocument",
                                   {"identifier": lose_refresh["identifier"]})
        bob.open_conversation("Alice")
        alice.send("After a lost refresh")
        bob.wait_for_message("After a lost refresh")

        # The server's database is restored from a copy made before Alice's last message. The pages' cursors are
        # past what it holds: the server says where to resume (the welcome's rewoundTo), and each page forgets
        # what it showed, loads it again, reopens the conversation and chats on.
        def restart_with(prepare):
            server.stop()
            for page in pages:
                page.wait(lambda page=page: page.connection_state() in ("offline", "connecting"), "the page to notice")
            prepare()
            server.start()
            for page in pages:
                page.wait_online(RECONNECT_TIMEOUT)

        # An online backup, as Operations.md says to take one: `--backup-to` while the server runs.
        backup = database + ".backup"
        subprocess.run([server.binary, "--database", database, "--backup-to", backup], check=True, timeout=60,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for path in (database, database + ".secret", backup):
            if os.stat(path).st_mode & 0o077:
                raise Failure(f"{path} may be read by other users: mode {oct(os.stat(path).st_mode)}")
        alice.send("Gone after the restore")
        bob.wait_for_message("Gone after the restore")
        restart_with(lambda: copy_database(backup, database))
        for page, other in ((alice, "Bob"), (bob, "Alice")):
            page.wait(lambda page=page, other=other: page.find("#conversation-title").text == other
                      and "Still here after the copy" in page.message_bodies()
                      and "Gone after the restore" not in page.message_bodies(), "the restored conversation")
        shots("restored")
        alice.send("After the restore")
        bob.wait_for_message("After the restore")

        # The server takes a body of at most 64 KiB of UTF-8; the box's maxlength (65,536 characters) lets in
        # 40,000 "é", which are 80,000 bytes. The page does not send it: it says why, and the text stays in the box
        # to be shortened (nothing is queued). In the group, so that the direct chat stays as it was (the README
        # screenshot).
        alice.open_conversation("Launch")
        alice.send("Edit me")
        # A paste longer than the limit is not cut short without a word (as a maxlength would): the box holds all of
        # it and says at once that it is too long; the warning goes once the text fits. (Input.insertText inserts as
        # a paste does, and is cut by a maxlength as a paste is.)
        alice.find("#composer-input").click()
        alice.driver.execute_cdp_cmd("Input.insertText", {"text": "a" * 70000})
        alice.wait(lambda: "too long" in alice.find("#action-error").text, "the pasted text's size to be said")
        if alice.js("return document.getElementById('composer-input').value.length") != 70000:
            raise Failure("the message box cut the pasted text")
        alice.js("const box = document.getElementById('composer-input'); box.value = 'a'.repeat(65536);"
                 "box.dispatchEvent(new Event('input'))")
        alice.wait(lambda: alice.find("#action-error").text == "", "the size warning to go once the text fits")
        alice.js("document.getElementById('composer-input').value = ''")
        # So too a group's name over the server's 256 bytes (100 characters of 3 bytes each: counted in characters,
        # it passed here and was refused by the server): it is refused, saying the limit, and kept to be shortened.
        alice.find("#new-group summary").click()
        alice.visible("#group-title").click()
        alice.driver.execute_cdp_cmd("Input.insertText", {"text": "日" * 100})
        alice.find("#group-form button[type=submit]").click()
        alice.wait(lambda: "at most 256 bytes" in alice.find("#group-error").text, "the group name's limit said")
        if alice.find("#group-title").get_attribute("value") != "日" * 100:
            raise Failure("the group's name field cut the pasted name")
        alice.find("#group-title").clear()
        alice.find("#new-group summary").click()
        alice.js("document.getElementById('composer-input').value = 'é'.repeat(40000)")
        alice.find("#composer-input").send_keys(Keys.ENTER)
        alice.wait(lambda: "too long" in alice.find("#action-error").text, "the error about the message's size")
        shots("send-too-long")
        if not alice.js("return document.getElementById('composer-input').value === 'é'.repeat(40000)"):
            raise Failure("the message box lost the text that was too long to send")
        if alice.js("return document.querySelector('#messages li.pending, #messages li.failed')") is not None:
            raise Failure("a message too long to send was queued")
        # Shortened to the limit (32,768 "é" are 65,536 bytes), it is sent, and the error goes.
        alice.js("document.getElementById('composer-input').value = 'é'.repeat(32768)")
        alice.find("#composer-input").send_keys(Keys.ENTER)
        alice.wait_for_message("é" * 32768)
        alice.wait(lambda: alice.js("return document.querySelector('#messages li.pending, #messages li.failed')")
                   is None and alice.find("#action-error").text == "", "the message at the limit to be stored")
        # The same for an edit: the edit box stays open with the text, and says why; Escape gives up.
        alice.message_action("Edit me", "[data-action=edit]")
        alice.wait(lambda: alice.js("const input = document.querySelector('#messages .edit-form textarea');"
                                    "if (input) { input.value = 'ü'.repeat(40000);"
                                    " input.dispatchEvent(new Event('input')); }"
                                    "return input !== null"), "the edit box")
        alice.wait(lambda: alice.find("#messages .edit-form textarea").send_keys(Keys.ENTER) or True, "the edit box")
        alice.wait(lambda: "too long" in alice.find("#action-error").text, "the error about the edit's size")
        if not alice.js("return document.querySelector('#messages .edit-form textarea')?.value === 'ü'.repeat(40000)"):
            raise Failure("the edit box lost the text that was too long to store")
        alice.find("#messages .edit-form textarea").send_keys(Keys.ESCAPE)
        alice.wait(lambda: alice.js("return document.querySelector('#messages .edit-form')") is None
                   and "Edit me" in alice.message_bodies(), "the edit to be given up")
        # The warning was about the edit given up: it goes with it.
        alice.wait(lambda: alice.find("#action-error").text == "", "the size warning to go with the edit")
        alice.open_conversation("Bob")

        # A message the server refuses is marked failed, and can be discarded: one left in the outbox by a page
        # that did not check its size (or while the server took more) goes out after a reload, and is refused.
        alice.js("sessionStorage.setItem('chatkit.outbox.' + JSON.parse(sessionStorage.getItem('chatkit.session'))"
                 ".user.id, JSON.stringify([{clientMessageID: 'web-too-long', body: 'é'.repeat(40000),"
                 " conversationID: new URLSearchParams(location.hash.slice(1)).get('c'), status: 'pending',"
                 " error: null, createdAt: Date.now()}]))")
        alice.driver.refresh()
        alice.wait_online()
        alice.wait(lambda: alice.js("return document.querySelector('#messages li.failed .receipt')?.textContent"
                                    " ?? ''").startswith("Not sent"), "the failed message")
        shots("send-failed")
        # Logging out with a message not sent (here: failed) asks first, since it discards it; Cancel keeps all.
        alice.find("#logout-button").click()
        def question():
            try:
                return alice.driver.switch_to.alert.text
            except NoAlertPresentException:
                return ""
        alice.wait(lambda: "not sent yet" in question(), "the question before logging out")
        alice.driver.switch_to.alert.dismiss()
        if (not alice.find("#chat-view").is_displayed()
                or alice.js("return sessionStorage.getItem('chatkit.session')") is None):
            raise Failure("Alice's page logged out although she cancelled")
        alice.wait(lambda: alice.find("#messages li.failed [data-action=discard]").click() or True, "Discard")
        alice.wait(lambda: alice.js("return document.querySelector('#messages li.failed')") is None,
                   "the failed message to go away")

        # Messages not sent to a conversation Alice is no longer in are shown above her list, to be discarded (they
        # were drawn only in that conversation, which is gone). One waits in her outbox for "Gone", which she left
        # while her page was away: the page sends it, and the server refuses it. One failed in "Leaving", from which
        # Bob removes her while her page is open.
        alice_token = alice.js("return JSON.parse(sessionStorage.getItem('chatkit.session')).accessToken")
        alice_id = alice.js("return JSON.parse(sessionStorage.getItem('chatkit.session')).user.id")
        bob_token = bob.js("return JSON.parse(sessionStorage.getItem('chatkit.session')).accessToken")
        left = {}
        for title in ("Gone", "Leaving"):
            left[title] = api_request(server.url, bob_token, {"type": "createConversation", "id": title,
                                                              "kind": "group", "title": title,
                                                              "memberIDs": [alice_id]})["conversation"]["id"]
        api_request(server.url, alice_token, {"type": "leave", "id": "leave", "conversationID": left["Gone"]})
        alice.js("sessionStorage.setItem('chatkit.outbox.' + arguments[0], JSON.stringify(["
                 "{clientMessageID: 'web-to-gone', body: 'To a group I left', conversationID: arguments[1],"
                 " status: 'pending', error: null, createdAt: Date.now()},"
                 "{clientMessageID: 'web-in-leaving', body: 'Failed in Leaving', conversationID: arguments[2],"
                 " status: 'failed', error: 'Refused', createdAt: Date.now() + 1}]))",
                 alice_id, left["Gone"], left["Leaving"])
        alice.driver.refresh()
        alice.wait_online()

        def stray_bodies():
            return alice.js("const section = document.getElementById('stray-outbox');"
                            "return !section || section.hidden ? [] : [...section.querySelectorAll('li.failed .body')]"
                            ".map((e) => e.textContent)")
        alice.wait(lambda: stray_bodies() == ["To a group I left"], f"the message refused for a group she left "
                   f"above Alice's list (have {stray_bodies()})")
        alice.wait(lambda: alice.conversation_item("Leaving") is not None, "the group Leaving in Alice's list")
        api_request(server.url, bob_token, {"type": "removeMember", "id": "remove", "conversationID": left["Leaving"],
                                            "userID": alice_id})
        alice.wait(lambda: alice.conversation_item("Leaving") is None
                   and stray_bodies() == ["To a group I left", "Failed in Leaving"],
                   f"the failed message of the group Alice was removed from above her list (have {stray_bodies()})")
        if alice.js("return document.querySelector('#stray-outbox [data-action=retry]')") is not None:
            raise Failure("a message to a conversation Alice is no longer in offers Retry")
        shots("unsent-to-left-conversations")
        for _ in range(2):
            alice.wait(lambda: alice.find("#stray-outbox li.failed [data-action=discard]").click() or True,
                       "Discard above the list")
        alice.wait(lambda: not alice.find("#stray-outbox").is_displayed()
                   and alice.js("return Object.keys(sessionStorage).filter(k => k.startsWith('chatkit.outbox.'))"
                                ".length") == 0, "the discarded messages to leave the list and the outbox")

        if args.readme_screenshot:
            alice.driver.set_window_size(900, 640)
            alice.wait(lambda: alice.js("return innerWidth") <= 900, "the smaller window")
            alice.wait(lambda: alice.js("const s = document.getElementById('message-scroller');"
                                        "s.scrollTop = s.scrollHeight; document.activeElement.blur();"
                                        "return s.scrollHeight - s.scrollTop - s.clientHeight < 2"),
                       "the messages scrolled to the end")
            alice.driver.save_screenshot(args.readme_screenshot)
            print(f"  README screenshot: {args.readme_screenshot}")

        # Phone width: one pane at a time.
        bob.driver.set_window_size(390, 800)
        bob.wait(lambda: not bob.find("#sidebar").is_displayed() and bob.find("#back-button").is_displayed(),
                 "the phone layout")
        bob.find("#back-button").click()
        bob.wait(lambda: bob.find("#sidebar").is_displayed(), "the list on the phone layout")
        shots("phone")

        # Bob logs out with a conversation open and a draft typed; Carol signs in on the same page and sees
        # nothing of his: no messages, no draft, no conversation in the address.
        bob.driver.set_window_size(1200, 800)
        bob.open_conversation("Alice")
        bob.wait(lambda: len(bob.message_bodies()) > 0, "Alice's conversation open for Bob")
        bob.type("an unsent draft")
        # Passwords typed into the change form (not sent) go with the login too.
        bob.find("#change-password summary").click()
        bob.visible("#current-password").send_keys("staple battery horse")
        bob.find("#new-password").send_keys("a new password of Bob's")
        bobs_access_token = json.loads(bob.js("return sessionStorage.getItem('chatkit.session')"))["accessToken"]
        bob.find("#logout-button").click()
        bob.visible("#auth-form")
        # The logout ended the session on the server, not only in the page: its access token is refused (a poll
        # that changes nothing, unlike a refresh, which a second time would revoke the session by itself).
        def session_ended(access_token):
            request = urllib.request.Request(server.url + "/v1/sync?wait=0",
                                             headers={"Authorization": f"Bearer {access_token}"})
            try:
                urllib.request.urlopen(request, timeout=5)
                return False
            except urllib.error.HTTPError as error:
                return error.code == 401
        bob.wait(lambda: session_ended(bobs_access_token), "Bob's session ended on the server by the logout")
        for field in ("#username", "#password", "#display-name"):
            bob.find(field).clear()
        bob.sign_up("carol", "carol's long password", "Carol")
        if bob.message_bodies():
            raise Failure(f"Carol sees the previous user's messages: {bob.message_bodies()}")
        if bob.find("#composer-input").get_attribute("value"):
            raise Failure("Carol's message box holds the previous user's draft")
        for field in ("#current-password", "#new-password"):
            if bob.find(field).get_attribute("value"):
                raise Failure(f"Carol's page holds the previous user's {field}")
        if bob.js("return document.getElementById('change-password').open"):
            raise Failure("Carol's page shows the previous user's password form open")
        if "c=" in bob.js("return location.hash"):
            raise Failure("the address still names the previous user's conversation")
        shots("next-user-signed-in")
        bob.find("#logout-button").click()
        bob.visible("#auth-form")

        # Bob logs in again: his conversations are there.
        for field in ("#username", "#password"):
            bob.find(field).clear()
        bob.find("#username").send_keys("bob")
        bob.find("#password").send_keys("staple battery horse", Keys.ENTER)
        bob.visible("#chat-view")
        bob.wait_online()
        bob.wait(lambda: bob.conversation_item("Alice") is not None and bob.conversation_item("Launch") is not None,
                 "Bob's conversations after logging in")
        shots("logged-in-again")

        # Bob changes his password from the page: his other logins end (one made over HTTP stands for another
        # device), his page goes on with the new session, and the new password logs in.
        def http_login(password):
            request = urllib.request.Request(
                server.url + "/v1/auth/login", method="POST", headers={"Content-Type": "application/json"},
                data=json.dumps({"username": "bob", "password": password}).encode())
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                return error.code, None
        status, other_device = http_login("staple battery horse")
        if status != 200:
            raise Failure(f"Bob's login over HTTP answered {status}")
        bob.find("#change-password summary").click()
        bob.visible("#current-password").send_keys("not my password")
        bob.find("#new-password").send_keys("battery staple horse 2")
        bob.find("#password-form button[type=submit]").click()
        bob.wait(lambda: "current password is incorrect" in bob.find("#password-error").text,
                 "the wrong current password to be said")
        bob.find("#current-password").clear()
        bob.find("#current-password").send_keys("staple battery horse")
        bob.find("#password-form button[type=submit]").click()
        bob.wait(lambda: "Password changed" in bob.find("#password-done").text, "the change to be confirmed")
        shots("password-changed")
        refresh = urllib.request.Request(
            server.url + "/v1/auth/refresh", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"refreshToken": other_device["refreshToken"]}).encode())
        try:
            urllib.request.urlopen(refresh, timeout=10)
            raise Failure("the other device's login outlived the password change")
        except urllib.error.HTTPError as error:
            if error.code != 401:
                raise Failure(f"the other device's refresh answered {error.code}, not 401") from error
        if http_login("staple battery horse")[0] != 401 or http_login("battery staple horse 2")[0] != 200:
            raise Failure("the old password still logs in, or the new one does not")
        bob.wait_online(RECONNECT_TIMEOUT)
        bob.open_conversation("Alice")
        alice.open_conversation("Bob")
        bob.send("After my new password")
        alice.wait_for_message("After my new password")
        if not bob.find("#chat-view").is_displayed():
            raise Failure("Bob's page signed out after changing his password")

        # Bob's login ends on the server (revoked: he logged out elsewhere, say) while his page is away with a
        # message in its outbox: the page he comes back to is signed out by the server, and his outbox waits for
        # his next login in the tab. Carol signs in there first; she is in the group the message is for, and it
        # must not go out as hers: her page forgets his outbox, and sends only what she types.
        def outbox_text(page):
            return page.js("return Object.keys(sessionStorage).filter((k) => k.startsWith('chatkit.outbox.'))"
                           ".map((k) => sessionStorage.getItem(k)).join('')") or ""
        bob.find("#new-group summary").click()
        bob.visible("#group-title").send_keys("Three")
        bob.find("#group-members").send_keys("alice carol")
        bob.find("#group-form button[type=submit]").click()
        bob.wait(lambda: bob.find("#conversation-title").text == "Three", "the group to open")
        server.stop()
        bob.wait(lambda: bob.connection_state() in ("offline", "connecting"), "Bob's page to notice")
        bob.send_keys_to_composer("Bob's unsent message")
        bob.wait(lambda: "Bob's unsent message" in outbox_text(bob), "the message in Bob's outbox")
        refresh_token = json.loads(bob.js("return sessionStorage.getItem('chatkit.session')"))["refreshToken"]
        fragment = bob.driver.current_url.partition("#")[2]
        bob.driver.get("about:blank")
        server.start()
        logout = urllib.request.Request(server.url + "/v1/auth/logout", method="POST",
                                        data=json.dumps({"refreshToken": refresh_token}).encode(),
                                        headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(logout, timeout=10) as response:
            if response.status != 204:
                raise Failure(f"logging Bob's session out answered {response.status}")
        bob.driver.get(f"{server.url}/#{fragment}")
        bob.wait(lambda: bob.find("#auth-view").is_displayed()
                 and "unsent messages" in bob.find("#auth-error").text, "the page to be signed out by the server")
        if "Bob's unsent message" not in outbox_text(bob):
            raise Failure("the outbox was not kept for Bob's next login")
        shots("signed-out-by-server")
        bob.find("#username").send_keys("carol")
        bob.find("#password").send_keys("carol's long password", Keys.ENTER)
        bob.visible("#chat-view")
        bob.wait_online()
        if outbox_text(bob):
            raise Failure(f"Bob's outbox is still in the tab Carol signed in on: {outbox_text(bob)!r}")
        bob.open_conversation("Three")
        # A connection's sends are stored in order, and the outbox goes first: once this one is stored, anything
        # of Bob's that her page sent would be too.
        bob.send("Carol's own message")
        bob.wait(lambda: bob.js("return document.querySelector('#messages li.pending, #messages li.failed')")
                 is None, "Carol's message to be stored")
        reader = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            leaked = reader.execute("SELECT count(*) FROM message WHERE body = ?", ("Bob's unsent message",))
            leaked = leaked.fetchone()[0]
        finally:
            reader.close()
        if leaked or "Bob's unsent message" in bob.message_bodies():
            raise Failure("Carol's page sent the message Bob left in the tab's outbox")
        shots("next-user-after-forced-sign-out")

        # Carol logs out while her password change waits for its answer (the server made the change; the page holds
        # the answer back, as a slow network would): the page signs out at once instead of waiting for the change,
        # and the session the change made is ended once its answer comes.
        bob.js("""
            const held = (window.heldPasswordChange = { tokens: null, release: null });
            const realFetch = window.fetch;
            window.fetch = async (path, options) => {
                const response = await realFetch(path, options);
                if (!String(path).endsWith("/v1/auth/password")) return response;
                held.tokens = await response.clone().json().catch(() => ({}));
                await new Promise((resolve) => (held.release = resolve));
                return response;
            };
        """)
        bob.find("#change-password summary").click()
        bob.visible("#current-password").send_keys("carol's long password")
        bob.find("#new-password").send_keys("carol's new long password")
        bob.find("#password-form button[type=submit]").click()
        bob.wait(lambda: bob.js("return window.heldPasswordChange.tokens !== null"),
                 "the server to change the password")
        change_tokens = bob.js("return window.heldPasswordChange.tokens")
        if not change_tokens.get("accessToken"):
            raise Failure(f"the password change answered no session: {change_tokens}")
        bob.find("#logout-button").click()
        bob.wait(lambda: bob.find("#auth-form").is_displayed(), "the page to sign out while the change is held")
        bob.js("window.heldPasswordChange.release()")
        bob.wait(lambda: session_ended(change_tokens["accessToken"]),
                 "the session the password change made to be ended")
        if bob.js("return sessionStorage.getItem('chatkit.session')") is not None:
            raise Failure("the tab stores a login after logging out during the password change")
        shots("logged-out-during-password-change")

        # The policy held: no Content-Security-Policy violation in either console.
        for page in pages:
            page.save_console()
            violations = [e["message"] for e in page.console if "Content Security Policy" in e.get("message", "")]
            if violations:
                raise Failure(f"{page.name}: Content-Security-Policy violations: {violations}")
    except BaseException:
        for page in pages:
            try:
                page.screenshot("failure")
            except Exception:
                pass
        raise
    finally:
        for page in pages:
            try:
                page.quit()
            except Exception:
                pass
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--server", required=True, help="the chatkit-server binary")
    parser.add_argument("--port", type=int, default=0, help="the port to use (default: a free one)")
    parser.add_argument("--artifacts", help="where screenshots and logs go (default: a new temporary folder)")
    parser.add_argument("--web-root", help="serve the web chat from this folder (default: the server's own copy)")
    parser.add_argument("--readme-screenshot", help="also save a screenshot of Alice's page here")
    args = parser.parse_args()
    artifacts = args.artifacts or tempfile.mkdtemp(prefix="chatkit-browser-")
    os.makedirs(artifacts, exist_ok=True)
    print(f"Browser test: screenshots and logs in {artifacts}")
    # Stopped from outside (a CI timeout): still close the browsers and stop the server, in run()'s `finally`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    try:
        run(args, artifacts)
    except Failure as failure:
        print(f"FAILED: {failure}\nScreenshots and logs: {artifacts}", file=sys.stderr)
        sys.exit(1)
    except Exception:
        traceback.print_exc()
        print(f"FAILED with an error. Screenshots and logs: {artifacts}", file=sys.stderr)
        sys.exit(1)
    print(f"Browser test passed in {time.monotonic() - started:.1f} s. Screenshots and logs: {artifacts}")


if __name__ == "__main__":
    main()
