"""The Gradio chat: cited streamed answers, escaped document text, errors in the chat, feedback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from assistant.feedback import FeedbackStore
from assistant.models import Answer, Citation
from assistant.settings import Settings
from ui.chat import build_chat, record_like, respond

EVIL_QUOTE = "<script>alert(1)</script> and <img src=x onerror=alert(1)>"


class FakeAssistant:
    """Assistant-like: streams a scripted answer whose quote and text hold HTML; records history."""

    def __init__(self, abstain: bool = False) -> None:
        self.abstain = abstain
        self.histories: list[Any] = []

    def health(self) -> dict[str, Any]:
        return {"documents": ["evil<b>doc</b>.md"]}

    def stream(self, question: object, history: object = None) -> Iterator[tuple[str, Any]]:
        from assistant.service import clean_question

        text = clean_question(question, 2000)
        self.histories.append(history)
        if self.abstain:
            answer = Answer("The document does not say.", True, "fake", query=text, reason="not_in_document")
        else:
            path = ("Appendix", "<i>Scripts</i>")
            citation = Citation("evil<b>doc</b>.md", "Scripts", path, EVIL_QUOTE, 0.9)
            answer = Answer(f"It says {EVIL_QUOTE} [1]", False, "fake", [citation],
                            query=f"{text} (rewritten)")
        for word in answer.answer.split(" "):
            yield "token", word + " "
        yield "answer", answer


def _chat_fn(demo: Any) -> Any:
    return next(f.fn for f in demo.fns.values() if f.api_name == "ask")


def _run(fn: Any, message: str, messages: list, turns: list) -> tuple[list, list]:
    *_, (_, final_messages, final_turns) = fn(message, messages, turns)
    return final_messages, final_turns


def test_html_in_answers_and_quotes_is_shown_as_text_not_markup() -> None:
    out = list(respond(FakeAssistant(), "What does the appendix say?", []))
    final = out[-1]
    assert len(out) > 2  # streamed
    for text in out:
        assert "<script" not in text and "<img" not in text and "<i>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in final
    assert "&lt;img src\\=x onerror\\=alert(1)&gt;" in final  # "=" escaped: no setext heading
    assert "**Sources**" in final and "[1]" in final
    assert "Appendix &gt; &lt;i&gt;Scripts&lt;/i&gt;" in final  # section path joined with " > "
    assert "Searched for" in final and "(rewritten)" in final


def test_abstention_is_plain_with_no_sources_block() -> None:
    final = list(respond(FakeAssistant(abstain=True), "Who is the CEO of Apple?", []))[-1]
    assert final.startswith("The document does not say")
    assert "Sources" not in final


def test_follow_up_sends_plain_answer_text_and_likes_are_stored(tmp_path: Path) -> None:
    fake = FakeAssistant()
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    fn = _chat_fn(build_chat(Settings(data_dir=tmp_path), fake, store))
    messages, turns = _run(fn, "What does the appendix say?", [], [])
    messages, turns = _run(fn, "And why?", messages, turns)

    assert fake.histories[1] == [
        {"role": "user", "content": "What does the appendix say?"},
        {"role": "assistant", "content": f"It says {EVIL_QUOTE} [1]"},
    ]
    assert [m["role"] for m in messages] == ["user", "assistant"] * 2
    assert "Sources" in messages[1]["content"]

    assert record_like(store, turns, 3, False) is not None
    assert record_like(store, turns, 1, "") is None  # a like undone stores nothing
    [row] = store.rows()
    assert row["question"] == "And why?" and row["rating"] == "down" and row["source"] == "chat"
    assert row["citations"][0]["quote"] == EVIL_QUOTE


def test_empty_question_shows_the_error_in_the_chat(tmp_path: Path) -> None:
    fn = _chat_fn(build_chat(Settings(data_dir=tmp_path), FakeAssistant()))
    messages, turns = _run(fn, "   ", [], [])
    assert "The question is empty" in messages[-1]["content"]
    assert turns[-1]["answer"] is None


@pytest.mark.integration
def test_chat_builds_and_streams_a_cited_answer_from_the_real_index(real_settings, real_assistant) -> None:
    import gradio as gr

    assert isinstance(build_chat(real_settings, real_assistant), gr.Blocks)
    out = list(respond(real_assistant, "In what year was Xiaomi founded, and by whom?", []))
    final = out[-1]
    assert len(out) > 2
    answer_text, _, sources = final.partition("**Sources**")
    assert "2010" in answer_text and "Lei Jun" in answer_text and "[1]" in answer_text
    assert "[1] **Company Background**" in sources and "xiaomi" in sources


@pytest.mark.integration
def test_real_assistant_empty_question_gives_the_error_text(real_assistant) -> None:
    assert "The question is empty" in list(respond(real_assistant, "", []))[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def chat_page(demo: Any) -> Iterator[Any]:
    """The chat served on a free port, open in headless Chromium; both closed after."""
    from playwright.sync_api import sync_playwright

    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="load", timeout=30000)
            yield page
            browser.close()
    finally:
        demo.close()


def ask_in_chat(page: Any, question: str) -> None:
    """Type a question into the chat box and send it with Enter."""
    page.fill("#question textarea", question, timeout=30000)
    page.keyboard.press("Enter")


@pytest.mark.integration
@pytest.mark.browser
def test_browser_shows_html_literally_and_stores_a_thumbs_up(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    alerts: list[str] = []
    with chat_page(build_chat(Settings(data_dir=tmp_path), FakeAssistant(), store)) as page:
        page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
        page.fill("#question textarea", "What does the appendix say?", timeout=30000)
        page.keyboard.press("Enter")
        page.get_by_text("Sources").wait_for(timeout=30000)
        bot = page.locator("#chatbot")
        assert "<script>alert(1)</script>" in bot.inner_text()
        assert "<img src=x onerror=alert(1)>" in bot.inner_text()
        assert bot.locator("img[src=x], script, i").count() == 0
        page.locator("#chatbot button[aria-label='Like']").last.click()
        page.wait_for_timeout(1500)
        liked = [(r["question"], r["rating"]) for r in store.rows()]
        page.locator("#chatbot button[aria-label='Dislike']").last.click()  # turned over
        page.wait_for_timeout(1500)
    assert alerts == []
    assert liked == [("What does the appendix say?", "up")]
    assert [(r["question"], r["rating"]) for r in store.rows()] == [("What does the appendix say?", "down")]


def test_a_partial_answer_says_which_part_the_document_does_not_answer() -> None:
    from ui.chat import format_answer

    answer = Answer("POCO targets performance enthusiasts. [1]", False, "extractive",
                    [Citation("doc.txt", "Brands", ("Brands",), "POCO targets performance enthusiasts.", 0.8)],
                    not_answered=["What is the market capitalisation"])
    text = format_answer(answer, "What is the market capitalisation, and which brand targets enthusiasts?")
    assert "_Not in the document: “What is the market capitalisation”_" in text
    assert text.index("Not in the document") < text.index("**Sources**")


def test_the_question_box_is_emptied_once_not_on_every_streamed_update(tmp_path: Path) -> None:
    """Text typed while an answer streams stays in the box."""
    fn = _chat_fn(build_chat(Settings(data_dir=tmp_path), FakeAssistant(), FeedbackStore(tmp_path / "f.sqlite3")))
    boxes = [box for box, _, _ in fn("What does the appendix say?", [], [])]
    assert boxes[0] == "" and len(boxes) > 2
    assert all(box != "" for box in boxes[1:])  # later updates leave the box alone


@pytest.mark.integration
@pytest.mark.browser
def test_the_chat_boxs_own_clear_icon_forgets_the_conversation(tmp_path: Path) -> None:
    fake = FakeAssistant()
    with chat_page(build_chat(Settings(data_dir=tmp_path), fake, FeedbackStore(tmp_path / "f.sqlite3"))) as page:
        ask_in_chat(page, "What does the appendix say?")
        page.get_by_text("Sources").wait_for(timeout=30000)
        page.locator("#chatbot button[aria-label='Clear']").first.click()
        page.get_by_text("Sources").wait_for(state="detached", timeout=30000)
        page.fill("#question textarea", "And why?", timeout=30000)
        page.keyboard.press("Enter")
        page.get_by_text("Sources").wait_for(timeout=30000)
    assert len(fake.histories) == 2 and fake.histories[1] == []  # the cleared turns are not sent


@pytest.mark.integration
@pytest.mark.browser
def test_the_page_names_the_documents_indexed_when_it_loads(tmp_path: Path) -> None:
    """A re-index while serving changes the documents: a page loaded after it names the new ones."""
    fake = FakeAssistant()
    demo = build_chat(Settings(data_dir=tmp_path), fake, FeedbackStore(tmp_path / "feedback.sqlite3"))
    fake.health = lambda: {"documents": ["staff-handbook.md"]}  # type: ignore[method-assign]
    with chat_page(demo) as page:
        page.locator("#chat-header").get_by_text("staff-handbook.md").wait_for(timeout=30000)
        assert "evil" not in page.locator("#chat-header").inner_text()


def test_a_thumb_turned_over_or_undone_leaves_one_rating_or_none(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    fn = _chat_fn(build_chat(Settings(data_dir=tmp_path), FakeAssistant(), store))
    _, turns = _run(fn, "What does the appendix say?", [], [])
    record_like(store, turns, 1, True)
    record_like(store, turns, 1, False)  # turned from up to down
    assert [(r["question"], r["rating"]) for r in store.rows()] == [("What does the appendix say?", "down")]
    record_like(store, turns, 1, "")  # undone
    assert store.rows() == []
    record_like(store, turns, 1, True)  # rated again
    assert [r["rating"] for r in store.rows()] == ["up"]


class SlowAssistant(FakeAssistant):
    """Streams each word a little apart, so a second question can be sent mid-answer."""

    def stream(self, question: object, history: object = None) -> Iterator[tuple[str, Any]]:
        import time

        for item in super().stream(question, history):
            time.sleep(0.15)
            yield item


@pytest.mark.integration
@pytest.mark.browser
def test_a_question_sent_while_an_answer_streams_is_asked_after_it(tmp_path: Path) -> None:
    slow = SlowAssistant()
    with chat_page(build_chat(Settings(data_dir=tmp_path), slow, FeedbackStore(tmp_path / "f.sqlite3"))) as page:
        ask_in_chat(page, "What does the appendix say?")
        page.locator("#chatbot").get_by_text("It says").wait_for(timeout=30000)  # streaming
        page.fill("#question textarea", "And why?")
        page.locator("#question textarea").press("Enter")
        page.locator("#chatbot").get_by_text("And why?").wait_for(timeout=30000)
        page.locator("#chatbot").get_by_text("Sources").nth(1).wait_for(timeout=30000)
        text = page.locator("#chatbot").inner_text()
    assert text.index("What does the appendix say?") < text.index("And why?")
    assert len(slow.histories) == 2
    assert slow.histories[1][0]["content"] == "What does the appendix say?"  # the first is its history
