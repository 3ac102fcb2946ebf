"""The one-tag widget in real headless Chromium, on a host page of another origin.

Two real servers per module on 127.0.0.1: the assistant (uvicorn in a thread) and a tiny static
server on another port whose page holds only the ``<script src=".../embed.js">`` tag.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from assistant.feedback import FeedbackStore
from ui.server import create_app

pytestmark = [pytest.mark.integration, pytest.mark.browser]

FOUNDED = "In what year was Xiaomi founded, and by whom?"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
HANDBOOK = """# Staff Handbook

## Parking Policy

Staff parking is on level two of the north garage. Visitors park in the marked bays near reception.

## Cafeteria Hours

The cafeteria opens at 8 am and closes at 3 pm on weekdays. The salad bar is refilled at noon.

## Badge Printer

The badge printer label template is <script>alert('xss-script')</script> and the fallback image \
tag is <img src=x onerror="alert('xss-img')"> for the badge printer.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_app(app: Any) -> tuple[str, Any, threading.Thread]:
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


def run_host_page(html: str, address: str = "127.0.0.1") -> tuple[str, ThreadingHTTPServer]:
    """Another origin (another port, or another address) serving one page."""
    body = html.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer((address, free_port()), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return f"http://{address}:{httpd.server_address[1]}/", httpd


def serve_both(app: Any, tag_attributes: str = "") -> Iterator[tuple[str, str]]:
    base, server, thread = run_app(app)
    host_url, httpd = run_host_page(f'<script src="{base}/embed.js" defer{tag_attributes}></script>')
    try:
        yield base, host_url
    finally:
        httpd.shutdown()
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def feedback_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("browser-feedback") / "feedback.sqlite3"


@pytest.fixture(scope="module")
def site(real_settings, real_assistant, feedback_path) -> Iterator[tuple[str, str]]:
    """(assistant server URL, host page URL on another origin) with the full app, chat included."""
    app = create_app(real_settings, real_assistant, FeedbackStore(feedback_path))
    yield from serve_both(app)


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory, real_settings, real_embedder) -> Iterator[tuple[str, str]]:
    """A handbook whose section holds <script> and <img onerror>, served behind an API key."""
    from assistant.retriever import HybridSearch
    from assistant.service import Assistant
    from index.pipeline import index_documents
    from index.store import build_store

    tmp = tmp_path_factory.mktemp("hostile")
    doc = tmp / "handbook.md"
    doc.write_text(HANDBOOK, encoding="utf-8")
    settings = real_settings.model_copy(update={"data_dir": tmp / "data", "documents": [doc],
                                                "api_key": "widget-key"})
    store = build_store(settings)
    index_documents([doc], store, real_embedder)
    assistant = Assistant(settings, HybridSearch(store, real_embedder, settings))
    app = create_app(settings, assistant, FeedbackStore(tmp / "f.sqlite3"), chat=False)
    yield from serve_both(app, ' data-api-key="widget-key" data-title="Handbook" data-position="left"')


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser: Any, url: str, **context: Any) -> tuple[Any, list[str]]:
    """A page on ``url`` that records script errors, CSP violations and dialogs."""
    page = browser.new_context(**context).new_page()
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None)

    def on_dialog(dialog: Any) -> None:
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url, wait_until="load")
    return page, problems


def ask_in_widget(page: Any, question: str) -> Any:
    """Open the widget with its launcher, ask, and return the frame once the answer is complete."""
    from playwright.sync_api import expect

    page.get_by_test_id("assistant-launcher").click()
    frame = page.frame_locator('[data-testid="assistant-frame"]')
    frame.get_by_test_id("widget-input").fill(question)
    frame.get_by_test_id("widget-input").press("Enter")
    expect(frame.get_by_test_id("assistant-answer")).to_have_count(1, timeout=30_000)  # a loaded CI machine
    return frame


def test_widget_on_another_origin_streams_a_cited_answer(browser, site, artifacts_dir, feedback_path) -> None:
    from playwright.sync_api import expect

    base, host_url = site
    assert base.rsplit(":", 1)[1] not in host_url  # really another origin
    page, problems = open_page(browser, host_url, viewport={"width": 1280, "height": 800})
    frame = ask_in_widget(page, FOUNDED)
    answer = frame.get_by_test_id("assistant-answer")
    expect(answer).to_contain_text("2010")
    expect(answer).to_contain_text("Lei Jun")
    expect(answer.get_by_test_id("citation-marker").first).to_have_text("1")
    sources = answer.get_by_test_id("assistant-sources")
    sources.locator("summary").click()
    expect(sources.locator("li").first).to_contain_text("Company Background")
    expect(sources.locator("li").first).to_contain_text("founded in 2010 by Lei Jun")
    answer.get_by_test_id("feedback-up").click()
    expect(answer).to_contain_text("Thanks!")
    page.screenshot(path=str(artifacts_dir / "widget-desktop.png"))
    page.wait_for_timeout(2500)  # past the wait for the chat's "ready" message
    expect(page.get_by_test_id("assistant-unavailable")).to_have_count(0)
    assert problems == []
    rows = FeedbackStore(feedback_path).rows()
    assert rows and rows[-1]["source"] == "widget" and rows[-1]["rating"] == "up"
    page.context.close()


def test_widget_names_the_part_of_a_question_the_document_does_not_answer(browser, site) -> None:
    from playwright.sync_api import expect

    _, host_url = site
    page, problems = open_page(browser, host_url, viewport={"width": 1280, "height": 800})
    frame = ask_in_widget(page, "How many employees does Xiaomi have, and who founded it?")
    answer = frame.get_by_test_id("assistant-answer")
    expect(answer).to_contain_text("Lei Jun")
    expect(answer.get_by_test_id("not-answered")).to_have_text(
        "Not in the document: \u201cHow many employees does Xiaomi have\u201d")
    assert problems == []
    page.context.close()


def test_widget_shows_what_a_follow_up_searched_for(browser, site) -> None:
    from playwright.sync_api import expect

    _, host_url = site
    page, problems = open_page(browser, host_url, viewport={"width": 1280, "height": 800})
    frame = ask_in_widget(page, FOUNDED)
    expect(frame.get_by_test_id("searched-query")).to_have_count(0)  # a question of its own
    frame.get_by_test_id("widget-input").fill("And when did it go public?")
    frame.get_by_test_id("widget-input").press("Enter")
    expect(frame.get_by_test_id("assistant-answer")).to_have_count(2, timeout=30_000)
    second = frame.get_by_test_id("assistant-answer").nth(1)
    expect(second).to_contain_text("Hong Kong Stock Exchange")
    expect(second.get_by_test_id("searched-query")).to_contain_text("Searched for: \u201cAnd when did it go public?")
    assert problems == []
    page.context.close()


def test_widget_is_full_width_on_a_375px_phone(browser, site, artifacts_dir) -> None:
    from playwright.sync_api import expect

    _, host_url = site
    page, problems = open_page(browser, host_url, viewport={"width": 375, "height": 667})
    frame = ask_in_widget(page, FOUNDED)
    expect(frame.get_by_test_id("assistant-answer")).to_contain_text("Lei Jun")
    box = page.get_by_test_id("assistant-panel").bounding_box()
    assert box is not None and box["x"] == 0 and box["width"] == 375
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    sources = frame.get_by_test_id("assistant-sources")
    sources.locator("summary").click()
    expect(sources.locator("li").first).to_contain_text("Company Background")
    page.screenshot(path=str(artifacts_dir / "widget-mobile.png"))
    page.get_by_test_id("assistant-close").click()
    expect(page.get_by_test_id("assistant-launcher")).to_be_visible()
    assert problems == []
    page.context.close()


def test_markup_in_a_document_section_shows_as_text_and_never_runs(browser, hostile_site,
                                                                   artifacts_dir) -> None:
    from playwright.sync_api import expect

    _, host_url = hostile_site
    page, problems = open_page(browser, host_url, viewport={"width": 1280, "height": 800})
    frame = ask_in_widget(page, "What is the badge printer label template?")  # also proves the key is sent
    answer = frame.get_by_test_id("assistant-answer")
    expect(answer).to_contain_text("<script>alert('xss-script')</script>")
    sources = answer.get_by_test_id("assistant-sources")
    sources.locator("summary").click()
    expect(sources).to_contain_text('<img src=x onerror="alert(\'xss-img\')">')
    expect(sources).to_contain_text("Staff Handbook › Badge Printer")
    assert frame.locator("#log script, #log img").count() == 0
    page.wait_for_timeout(300)  # give a stray onerror handler time to fire
    page.screenshot(path=str(artifacts_dir / "widget-escaping.png"))
    assert problems == []  # no alert() dialog, no CSP violation, no script error
    page.context.close()


def test_widget_without_the_key_shows_the_401_message(browser, hostile_site) -> None:
    from playwright.sync_api import expect

    base, _ = hostile_site
    page, _problems = open_page(browser, f"{base}/widget")  # the bare page, no key in the fragment
    page.get_by_test_id("widget-input").fill("What is the badge printer label template?")
    page.get_by_test_id("widget-send").click()
    expect(page.get_by_test_id("assistant-error")).to_contain_text("API key")
    page.context.close()


def test_widget_on_a_page_not_allowed_to_frame_it_says_which_setting_allows_it(browser, hostile_site) -> None:
    """127.0.0.2 is not localhost to the origin policy: the browser refuses to frame the chat,
    and the panel explains instead of staying empty."""
    from playwright.sync_api import expect

    base, _ = hostile_site
    host_url, httpd = run_host_page(f'<script src="{base}/embed.js" defer></script>', address="127.0.0.2")
    try:
        page, _problems = open_page(browser, host_url)
        page.get_by_test_id("assistant-launcher").click()
        note = page.get_by_test_id("assistant-unavailable")
        expect(note).to_be_visible(timeout=30_000)
        expect(note).to_contain_text(f"ASSISTANT_ALLOWED_ORIGINS={host_url.rstrip('/')}")
        expect(page.get_by_test_id("assistant-frame")).to_be_hidden()
        page.context.close()
    finally:
        httpd.shutdown()


def test_demo_page_shows_the_tag_in_use(browser, site) -> None:
    from playwright.sync_api import expect

    base, _ = site
    page, problems = open_page(browser, f"{base}/embed/demo")
    expect(page.locator("#tag")).to_contain_text("embed.js")
    page.get_by_test_id("assistant-launcher").click()
    expect(page.frame_locator('[data-testid="assistant-frame"]').get_by_test_id("widget-input")).to_be_visible()
    assert problems == []
    page.context.close()
