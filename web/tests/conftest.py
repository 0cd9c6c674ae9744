"""Fixtures of the browser tests: the services started by scripts/browser-tests.sh (their URLs in
BROWSER_* variables), headless Chromium from Debian's package driven by Playwright, plain HTTP
helpers to set up and check state behind the page's back, and a third origin that the services'
CORS lists do not name.
"""

from __future__ import annotations

import functools
import json
import os
import pathlib
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {"1280x800": LAPTOP, "390x844": PHONE}

PASSWORD = "a quiet harbour at dawn 42"


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run the browser tests with scripts/browser-tests.sh", 2)
    return value


@dataclass(frozen=True)
class Stack:
    """One auth-service + todo-service pair; the client is served at `todo_url/app/`."""

    auth_url: str
    todo_url: str
    admin_email: str
    admin_password: str

    @property
    def app_url(self) -> str:
        return f"{self.todo_url}/app/"


@pytest.fixture(scope="session")
def stack() -> Stack:
    """The main pair: default token lifetimes."""
    return Stack(
        env("BROWSER_AUTH_URL"),
        env("BROWSER_TODO_URL"),
        env("BROWSER_ADMIN_EMAIL"),
        env("BROWSER_ADMIN_PASSWORD"),
    )


@pytest.fixture(scope="session")
def short_stack() -> Stack:
    """The pair with 3-second access tokens and no leeway on the todo-service."""
    return Stack(
        env("BROWSER_SHORT_AUTH_URL"),
        env("BROWSER_SHORT_TODO_URL"),
        env("BROWSER_ADMIN_EMAIL"),
        env("BROWSER_ADMIN_PASSWORD"),
    )


@pytest.fixture(scope="session")
def artifacts() -> pathlib.Path:
    path = pathlib.Path(env("BROWSER_ARTIFACTS"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the browser ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Browser:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=env("BROWSER_CHROMIUM"), args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@dataclass
class Watch:
    """What a page did: its requests and answers, and any script error or CSP violation."""

    requests: list = field(default_factory=list)
    responses: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    console: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r.method == method and r.url.split("?")[0].endswith(path))

    def bearer_tokens(self) -> list[str]:
        tokens = []
        for r in self.requests:
            value = r.headers.get("authorization", "")
            if value.startswith("Bearer "):
                tokens.append(value.removeprefix("Bearer "))
        return tokens


@pytest.fixture
def open_page(browser: Browser):
    """`open_page(viewport=LAPTOP) -> (page, watch)`: a fresh browser context (nothing shared
    with another test) with its traffic and errors recorded. Each page accepts `confirm()`
    dialogs. At teardown, no uncaught script error and no CSP violation may have happened."""
    contexts = []
    watches = []

    def make(viewport: dict | None = None) -> tuple[Page, Watch]:
        context = browser.new_context(viewport=viewport or LAPTOP, locale="en-GB", timezone_id="UTC")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        watch = Watch()
        watches.append(watch)
        page.on("request", lambda r: watch.requests.append(r))
        page.on("response", lambda r: watch.responses.append(r))
        page.on("requestfailed", lambda r: watch.failed.append(r))
        page.on("console", lambda m: watch.console.append(f"{m.type}: {m.text}"))
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
        page.on("dialog", lambda d: d.accept())
        return page, watch

    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        assert not watch.page_errors, f"uncaught script errors: {watch.page_errors}"
        violations = [m for m in watch.console if "Content Security Policy" in m]
        assert not violations, f"CSP violations: {violations}"


def wait_ready(page: Page) -> None:
    """Until the client has loaded its configuration."""
    page.wait_for_selector("html[data-ready='true']", state="attached")


def goto_app(page: Page, stack: Stack) -> None:
    page.goto(stack.app_url)
    wait_ready(page)


def ui_login(page: Page, email: str, password: str) -> None:
    """Logs in through the form and waits for the todo list to be drawn."""
    form = page.locator("#login-form")
    form.get_by_label("Email").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Log in", exact=True).click()
    page.locator("#view-app").wait_for(state="visible")
    page.locator("#todo-summary, #todo-empty").first.wait_for(state="attached")
    wait_idle(page)


def wait_idle(page: Page) -> None:
    """Until no request of the page is in flight (the list has been drawn)."""
    page.wait_for_load_state("networkidle")


def shot(page: Page, artifacts: pathlib.Path, name: str) -> pathlib.Path:
    size = page.viewport_size or LAPTOP
    path = artifacts / f"{name}-{size['width']}x{size['height']}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- plain HTTP, behind the page's back -----------------------------------------------------------


def http(method: str, url: str, body=None, token: str | None = None, origin: str | None = None):
    """`(status, headers, json-or-None)` of one request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if origin:
        request.add_header("Origin", origin)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:
        raw = error.read()
        status, headers = error.code, error.headers
    payload = json.loads(raw) if raw and "json" in headers.get("Content-Type", "") else None
    return status, headers, payload


def new_email(tag: str) -> str:
    return f"{tag}-{uuid.uuid4().hex[:10]}@example.com"


def api_register(stack: Stack, email: str, password: str = PASSWORD, **names) -> dict:
    status, _, user = http("POST", f"{stack.auth_url}/api/auth/register", {"email": email, "password": password, **names})
    assert status == 201, user
    return user


def api_login(stack: Stack, email: str, password: str = PASSWORD) -> dict:
    status, _, tokens = http("POST", f"{stack.auth_url}/api/auth/login", {"email": email, "password": password})
    assert status == 200, tokens
    return tokens


def api_add_todo(stack: Stack, token: str, title: str, **fields) -> dict:
    status, _, todo = http("POST", f"{stack.todo_url}/api/todos", {"title": title, **fields}, token)
    assert status == 201, todo
    return todo


def eventually(check, timeout: float = 5.0, interval: float = 0.1):
    """`check()` until it returns a truthy value (returned) or the time is up (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: last value {value!r}")
        time.sleep(interval)


# --- a third origin ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # noqa: D102 - silence the access log
        pass


@pytest.fixture(scope="session")
def third_origin(stack: Stack, tmp_path_factory) -> str:
    """A copy of the client served by Python's http.server on another port: an origin that
    neither service's CORS list names. Its config.json points at the main pair's two APIs."""
    root = tmp_path_factory.mktemp("third-origin")
    web = pathlib.Path(env("BROWSER_WEB_DIR"))
    shutil.copytree(web, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("tests"))
    (root / "config.json").write_text(json.dumps({"auth_url": stack.auth_url, "todo_url": stack.todo_url}))
    port = free_port()
    server = ThreadingHTTPServer(
        ("127.0.0.1", port), functools.partial(QuietHandler, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
