"""The Gradio chat: streamed answers with [n] markers, a Sources block and thumbs up/down.

Usage::

    demo = build_chat(settings, assistant)          # gr.Blocks; ui.server mounts it at "/"
    for text in respond(assistant, "When was Xiaomi founded?", []):
        ...                                          # the chat message as it streams (markdown)

Document text, answers and questions are escaped before Gradio renders them as markdown, so a
section holding ``<script>`` or ``*stars*`` shows literally instead of being interpreted.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from assistant.models import Answer

if TYPE_CHECKING:
    import gradio as gr

    from assistant.feedback import FeedbackStore
    from assistant.service import Assistant
    from assistant.settings import Settings

log = logging.getLogger(__name__)

EXAMPLES = [
    "In what year was Xiaomi founded, and by whom?",
    "How does Xiaomi make money from internet services?",
    "What risks does Xiaomi face?",
    "And how does it plan to deal with them?",
]



def example_questions(assistant: Assistant) -> list[str]:
    """Examples for the indexed documents: the curated ones for the bundled report, else
    questions on the first few top-level parts of whatever is indexed."""
    from assistant.settings import BUNDLED_DOCUMENT

    search = getattr(assistant, "search", None)
    if search is None or BUNDLED_DOCUMENT.name in assistant.health().get("documents", []):
        return list(EXAMPLES)
    catalog = search.catalog()
    parts = [s.title for s in sorted(catalog.sections.values(), key=lambda s: (s.document, s.start))
             if len(s.path) == 1 and s.title != "Introduction"]
    return [f"What does the document say about {title}?" for title in parts[:3]] or [
        "What is this document about?"]


# Markdown-active characters; `[` and `]` are left alone inside citation markers like [1].
_MARKDOWN = re.compile(r"([\\`*_~$|#+\-=!{}])")
_LIST_START = re.compile(r"^(\s*\d+)([.)])", re.M)
_BRACKET = re.compile(r"\[(?!\d+\])|(?<!\[\d)(?<!\[\d\d)\]")


def escape(text: str) -> str:
    """Text shown literally by a markdown renderer: HTML entities and markdown characters escaped."""
    text = html.escape(text, quote=False)
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LIST_START.sub(r"\1\\\2", text)
    return _BRACKET.sub(lambda m: "\\" + m.group(0), text)


def _quote_text(text: str) -> str:
    return " ".join(text.split())  # one line, so a quote cannot open a list or heading


def format_answer(answer: Answer, question: str = "") -> str:
    """The chat message for a finished answer: text, "Searched for" when rewritten, Sources."""
    parts = [escape(answer.answer)]
    if answer.not_answered and not answer.abstained:
        parts.append("_Not in the document: " + "; ".join(f"“{escape(p)}”" for p in answer.not_answered) + "_")
    if answer.query and _norm(answer.query) != _norm(question):
        parts.append(f"_Searched for: “{escape(answer.query)}”_")
    if answer.citations and not answer.abstained:
        lines = ["**Sources**"]
        for i, c in enumerate(answer.citations, 1):
            path = " > ".join(c.path) or c.section
            lines.append(f"[{i}] **{escape(path)}** — {escape(c.document)}  \n"
                         f"“{escape(_quote_text(c.quote))}”")
        parts.append("\n\n".join(lines))
    return "\n\n".join(parts)


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).rstrip("?.! ")


def reply(assistant: Any, message: str, history: list[dict[str, str]] | None = None
          ) -> Iterator[tuple[str, Answer | None]]:
    """(chat message so far, None) while streaming, then (final message, Answer).

    ``history`` holds plain turns [{"role", "content"}] with the answer text only (no Sources).
    A bad question ends with (error message, None) instead of raising.
    """
    from assistant.service import QuestionError

    text = ""
    try:
        for kind, value in assistant.stream(message, history or []):
            if kind == "token":
                text += value
                yield escape(text), None
            elif kind == "answer":
                yield format_answer(value, message), value
    except QuestionError as exc:
        yield f"⚠️ {escape(str(exc))}", None


def respond(assistant: Any, message: str, history: list[dict[str, str]] | None = None) -> Iterator[str]:
    """The chat function: the assistant message (escaped markdown) as it streams."""
    for text, _ in reply(assistant, message, history):
        yield text


def plain_history(turns: list[dict[str, Any]]) -> list[dict[str, str]]:
    """History for the assistant from the chat's turns: questions and plain answer text only."""
    history: list[dict[str, str]] = []
    for turn in turns:
        if turn.get("answer") is None:
            continue
        history.append({"role": "user", "content": turn["question"]})
        history.append({"role": "assistant", "content": turn["answer"]["answer"]})
    return history


def rating_of(liked: Any) -> str | None:
    """Gradio's like payload (True, False or "" when undone) as "up", "down" or None."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    return None


def record_like(store: FeedbackStore, turns: list[dict[str, Any]], index: Any, liked: Any) -> int | None:
    """Store a thumbs up/down on the chat message at ``index``; None for errors or an undone like.
    One answer holds one rating: a thumb turned over changes the stored row, one undone removes
    it (the row id is kept on the turn)."""
    rating = rating_of(liked)
    index = index[0] if isinstance(index, (list, tuple)) else index
    turn = next((t for t in turns if t["index"] == index), None)
    if turn is None or turn["answer"] is None:
        return None
    if turn.get("rated") is not None:
        store.rerate(turn["rated"], rating)
        if rating is None:
            turn["rated"] = None
        return turn["rated"]
    if rating is None:
        return None
    turn["rated"] = store.record(turn["question"], turn["answer"], rating, "chat")
    return turn["rated"]


def build_chat(settings: Settings, assistant: Assistant, feedback: FeedbackStore | None = None) -> gr.Blocks:
    """The chat UI as a gr.Blocks, ready to launch or mount (``gr.mount_gradio_app``)."""
    import gradio as gr

    from assistant.feedback import FeedbackStore

    store = feedback or FeedbackStore.for_settings(settings)

    def header() -> str:
        """The title names the live index's documents (read again on each page load: a re-index
        while serving changes them)."""
        documents = assistant.health().get("documents") or []
        names = ", ".join(f"`{d}`" for d in documents) if documents else "the indexed documents"
        return (f"# Ask the document\nQuestions about {names}. Answers quote the sections they come "
                "from: each **[n]** points to a source listed under the answer. When the document "
                "does not say, the assistant says so instead of guessing.")

    def submit(message: str, messages: list[dict[str, Any]] | None, turns: list[dict[str, Any]] | None
               ) -> Iterator[tuple[Any, list[dict[str, Any]], list[dict[str, Any]]]]:
        messages = list(messages or [])
        turns = list(turns or [])
        history = plain_history(turns)
        messages.append({"role": "user", "content": escape(message or "")})
        messages.append({"role": "assistant", "content": "…"})
        index = len(messages) - 1
        yield "", messages, turns  # the box is emptied once: what is typed while the answer streams stays
        kept = gr.skip()
        answer: Answer | None = None
        try:
            for text, final in reply(assistant, message, history):
                answer = final or answer
                messages[index] = {"role": "assistant", "content": text}
                yield kept, messages, turns
        except Exception as exc:  # an LLM server or the index failed: say so in the chat
            log.exception("chat answer failed")
            messages[index] = {"role": "assistant",
                               "content": f"⚠️ Sorry, the answer failed: {escape(str(exc))}"}
        turns.append({"index": index, "question": message or "",
                      "answer": answer.to_json() if answer else None})
        yield kept, messages, turns

    def on_like(turns: list[dict[str, Any]] | None, data: gr.LikeData) -> list[dict[str, Any]]:
        turns = list(turns or [])
        record_like(store, turns, data.index, data.liked)
        return turns  # with the rated row's id, for a thumb turned over later

    # Gradio finds LikeData through real (not string) annotations.
    on_like.__annotations__ = {"turns": list, "data": gr.LikeData, "return": list}

    with gr.Blocks(title="Document assistant") as demo:
        title = gr.Markdown(header(), elem_id="chat-header")
        chatbot = gr.Chatbot(
            label="Chat", height=520, sanitize_html=True, render_markdown=True, latex_delimiters=[],
            feedback_options=("Like", "Dislike"), buttons=["copy"], elem_id="chatbot",
            placeholder="Ask a question about the document, or pick an example below.",
        )
        turns = gr.State([])
        with gr.Row():
            box = gr.Textbox(show_label=False, placeholder="Ask a question…", scale=8,
                             autofocus=True, submit_btn=False, elem_id="question")
            send = gr.Button("Ask", variant="primary", scale=1, min_width=80)
        examples = gr.Examples(example_questions(assistant), inputs=[box], label="Examples")
        clear = gr.Button("Clear chat", variant="secondary", size="sm")

        io: dict[str, Any] = {"fn": submit, "inputs": [box, chatbot, turns],
                              "outputs": [box, chatbot, turns],
                              "concurrency_limit": settings.max_concurrency}
        # Enter and the Ask button are one event: a question sent while an answer streams is asked
        # when that answer is done (with it as history), not dropped or run beside it.
        gr.on([box.submit, send.click], **io, api_name="ask", trigger_mode="always_last")
        examples.load_input_event.then(**io, api_visibility="undocumented")
        clear.click(lambda: ([], [], ""), outputs=[chatbot, turns, box], api_visibility="undocumented")
        # The chat box's own trash icon forgets the conversation too: follow-ups and ratings must
        # not reach turns the user no longer sees.
        chatbot.clear(lambda: [], outputs=[turns], api_visibility="undocumented")
        chatbot.like(on_like, inputs=[turns], outputs=[turns], api_visibility="undocumented")
        demo.load(lambda: (header(), gr.Dataset(samples=[[q] for q in example_questions(assistant)])),
                  outputs=[title, examples.dataset], api_visibility="undocumented")
    return demo
