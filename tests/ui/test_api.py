"""The HTTP API over the real indexed assistant: every endpoint, every error code, the SSE order."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.feedback import FeedbackStore
from assistant.models import Answer
from ui.server import create_app

pytestmark = pytest.mark.integration

FOUNDED = "In what year was Xiaomi founded, and by whom?"


@pytest.fixture(scope="module")
def feedback_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"


@pytest.fixture(scope="module")
def client(real_settings, real_assistant, feedback_path) -> TestClient:
    """The whole app (Gradio chat included), no key, a generous rate limit."""
    settings = real_settings.model_copy(update={"rate_limit": 0})
    with TestClient(create_app(settings, real_assistant, FeedbackStore(feedback_path))) as c:
        yield c


def parse_sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    events = []
    for block in text.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_ask_returns_the_cli_json_object_with_citations(client, real_assistant) -> None:
    r = client.post("/api/ask", json={"question": FOUNDED, "history": []})
    assert r.status_code == 200
    body = r.json()
    assert "2010" in body["answer"] and "Lei Jun" in body["answer"]
    assert body["citations"][0]["section"] == "Company Background"
    assert set(body) >= {"answer", "abstained", "answered_by", "citations", "query"}
    assert body == real_assistant.ask(FOUNDED).to_json()  # same object as `assistant ask --jsonl`


def test_ask_uses_history_for_a_follow_up(client) -> None:
    history = [{"role": "user", "content": "Who founded Xiaomi?"},
               {"role": "assistant", "content": "Lei Jun founded Xiaomi in 2010. [1]"}]
    r = client.post("/api/ask", json={"question": "In what year?", "history": history})
    assert r.status_code == 200
    assert "2010" in r.json()["answer"]


def test_a_misspelt_field_is_named_not_silently_dropped(client) -> None:
    """"histroy" would drop the conversation without a word: 422 naming the field meant, on
    both endpoints; a field that is no slip of one ("session") is still ignored."""
    history = [{"role": "user", "content": "Who founded Xiaomi?"}]
    for path in ("/api/ask", "/api/ask/stream"):
        r = client.post(path, json={"question": "In what year?", "histroy": history})
        assert r.status_code == 422 and r.json() == {"error": "Unknown field 'histroy': did you mean 'history'?"}
    r = client.post("/api/ask", json={"questoin": "Who founded Xiaomi?"})
    assert r.status_code == 422 and "did you mean 'question'?" in r.json()["error"]
    r = client.post("/api/ask", json={"question": FOUNDED, "session": "abc", "stream": False, "question_id": 3,
                                      "historyId": "x"})
    assert r.status_code == 200 and "Lei Jun" in r.json()["answer"]
    # With the field itself there, nothing is dropped: no error.
    r = client.post("/api/ask", json={"question": FOUNDED, "questions": []})
    assert r.status_code == 200
    # A real error is reported as itself, not as a slip.
    r = client.post("/api/ask", json={"question": 42, "question_id": 3})
    assert r.status_code == 422 and "did you mean" not in r.json()["error"]


def test_stream_sends_tokens_then_one_answer_with_citations(client) -> None:
    r = client.post("/api/ask/stream", json={"question": FOUNDED})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/event-stream")
    events = parse_sse(r.text)
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "answer" and kinds.count("answer") == 1
    assert len(kinds) > 3 and set(kinds[:-1]) == {"token"}
    final = events[-1][1]
    assert "".join(data["text"] for _, data in events[:-1]).strip() == final["answer"].strip()
    assert final["citations"][0]["section"] == "Company Background"
    assert "Lei Jun" in final["citations"][0]["quote"]


@pytest.mark.parametrize(("body", "status", "says"), [
    (b'{"question": ""}', 422, "empty"),
    (b'{"question": "   \\n\\t "}', 422, "empty"),
    (json.dumps({"question": "x" * 2001}).encode(), 413, "too long"),
    (b'{"question": "When', 400, "Malformed JSON"),
    (b"not json at all", 400, "Malformed JSON"),
    (b'{"question": 42}', 422, "question"),
    (b'{"question": ["a"]}', 422, "question"),
    (b'{"question": null}', 422, "question"),
    (b"{}", 422, "question"),
    (b'["In what year?"]', 422, "JSON object"),
    (b'{"question": "When?", "history": "hi"}', 422, "history"),
    (b'{"question": "When?", "history": [1, 2]}', 422, "history[0]"),
    (b'{"question": "When?", "history": [{"role": "system", "content": "x"}]}', 422, "role"),
    (b'{"question": "When?", "history": [{"role": "user", "content": 5}]}', 422, "content"),
])
@pytest.mark.parametrize("path", ["/api/ask", "/api/ask/stream"])
def test_bad_input_is_a_json_4xx_error_never_500(client, path: str, body: bytes, status: int,
                                                 says: str) -> None:
    r = client.post(path, content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/json")
    assert says.lower() in r.json()["error"].lower()


def test_question_of_exactly_the_limit_is_accepted(client, real_settings) -> None:
    question = ("When was Xiaomi founded? " * 100)[: real_settings.max_question_chars]
    assert client.post("/api/ask", json={"question": question}).status_code == 200


def test_feedback_is_stored_with_question_answer_and_citations(client, feedback_path: Path) -> None:
    answer = client.post("/api/ask", json={"question": FOUNDED}).json()
    r = client.post("/api/feedback", json={"question": FOUNDED, "answer": answer, "rating": "up",
                                           "source": "widget"})
    assert r.status_code == 201 and r.json()["id"] >= 1
    row = FeedbackStore(feedback_path).rows()[-1]
    assert (row["question"], row["rating"], row["source"]) == (FOUNDED, "up", "widget")
    assert row["citations"][0]["section"] == "Company Background"


@pytest.mark.parametrize("body", [
    {"question": FOUNDED, "answer": {"answer": "x"}, "rating": "meh"},
    {"question": FOUNDED, "answer": "x", "rating": "up"},
    {"question": "", "answer": {"answer": "x"}, "rating": "down"},
    {"question": FOUNDED, "answer": {"no": "answer"}, "rating": "down"},
    {"question": FOUNDED, "answer": {"answer": "x", "citations": [1, {"x": 1}]}, "rating": "down"},
])
def test_bad_feedback_is_422(client, body: dict[str, Any]) -> None:
    r = client.post("/api/feedback", json=body)
    assert r.status_code == 422 and r.json()["error"]


def test_a_feedback_body_that_is_no_object_is_told_the_feedback_shape(client) -> None:
    r = client.post("/api/feedback", json=[])
    assert r.status_code == 422 and '"rating"' in r.json()["error"]
    assert '"history"' in client.post("/api/ask", json=[]).json()["error"]


def test_healthz_reports_status_index_size_and_answerer(client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["answerer"] == "extractive"
    assert body["sections"] > 10 and body["documents"] == ["xiaomi-business-model.txt"]


def test_the_openapi_schema_describes_what_the_api_returns(client) -> None:
    """A developer generating a client from /openapi.json gets the answer object, the history's
    turn shape and the bearer key, and each documented field is one the API really sends."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]

    def fields(ref: dict) -> tuple[set[str], set[str]]:
        schema = schemas[ref["$ref"].rsplit("/", 1)[1]]
        return set(schema["properties"]), set(schema.get("required", []))

    ask = spec["paths"]["/api/ask"]["post"]
    answer_fields, answer_required = fields(ask["responses"]["200"]["content"]["application/json"]["schema"])
    real = client.post("/api/ask", json={"question": FOUNDED}).json()
    assert answer_required <= set(real) <= answer_fields
    citation_ref = schemas["AnswerBody"]["properties"]["citations"]["items"]
    assert set(real["citations"][0]) == fields(citation_ref)[0]
    refused = client.post("/api/ask", json={"question": "How many employees does Xiaomi have?"}).json()
    assert set(refused) <= answer_fields and refused["reason"] == "not_in_document"
    turn = schemas["AskRequest"]["properties"]["history"]["anyOf"][0]["items"]
    assert turn["properties"]["role"]["enum"] == ["user", "assistant"]
    assert "security" not in ask and spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"  # no key set
    stream = spec["paths"]["/api/ask/stream"]["post"]["responses"]["200"]["content"]
    assert list(stream) == ["text/event-stream"]
    health_ref = spec["paths"]["/healthz"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(client.get("/healthz").json()) == fields(health_ref)[0]
    feedback = spec["paths"]["/api/feedback"]["post"]["responses"]
    assert "not enabled" in feedback["503"]["description"] and "201" in feedback


def test_docs_chat_widget_and_demo_are_served(client) -> None:
    assert "/api/ask/stream" in client.get("/openapi.json").json()["paths"]
    assert client.get("/docs").status_code == 200
    chat = client.get("/")
    assert chat.status_code == 200 and "gradio" in chat.text.lower()
    assert "assistant-launcher" in client.get("/embed.js").text
    assert 'src="widget/assets/widget.js"' in client.get("/widget").text
    demo = client.get("/embed/demo").text
    assert '<script src="/embed.js"' in demo


class SlowAssistant:
    """Blocks inside ask() until released, to fill the server's answer slots."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def ask(self, question: object, history: object = None) -> Answer:
        self.entered.set()
        self.release.wait(10)
        return Answer(answer="done", abstained=False, answered_by="slow")

    def health(self) -> dict[str, Any]:
        return {"status": "ok"}


def test_full_server_answers_503_with_retry_after_instead_of_queueing(real_settings, tmp_path) -> None:
    settings = real_settings.model_copy(update={"max_concurrency": 1, "rate_limit": 0})
    slow = SlowAssistant()
    app = create_app(settings, slow, FeedbackStore(tmp_path / "f.sqlite3"), chat=False)  # type: ignore[arg-type]
    with TestClient(app) as c:
        first: dict[str, Any] = {}
        t = threading.Thread(target=lambda: first.setdefault("r", c.post("/api/ask", json={"question": "a"})))
        t.start()
        assert slow.entered.wait(10)
        busy = c.post("/api/ask", json={"question": "b"})
        slow.release.set()
        t.join(10)
    assert busy.status_code == 503 and busy.headers["retry-after"] and busy.json()["error"]
    assert first["r"].status_code == 200 and first["r"].json()["answer"] == "done"


def test_an_index_rebuilt_by_another_model_gives_503_saying_what_to_do(settings, tmp_path, monkeypatch) -> None:
    """Re-indexed with another embedding model while serving: a clear 503, not a 500 or wrong answers."""
    from assistant.service import build_assistant
    from assistant.settings import BUNDLED_DOCUMENT
    from index.embeddings import HashEmbedder
    from index.pipeline import index_documents
    from index.store import build_store

    monkeypatch.setattr("index.embeddings.build_embedder", lambda s: HashEmbedder())
    index_documents([BUNDLED_DOCUMENT], build_store(settings), HashEmbedder())
    assistant = build_assistant(settings)
    assistant.search.refresh_seconds = 0  # see the new generation at once
    app = create_app(settings.model_copy(update={"rate_limit": 0}), assistant,
                     FeedbackStore(tmp_path / "f.sqlite3"), chat=False)
    with TestClient(app) as c:
        assert c.post("/api/ask", json={"question": FOUNDED}).status_code == 200
        index_documents([BUNDLED_DOCUMENT], build_store(settings), HashEmbedder(dimension=32))
        r = c.post("/api/ask", json={"question": FOUNDED})
        streamed = c.post("/api/ask/stream", json={"question": FOUNDED})
        health = c.get("/healthz")
    assert r.status_code == 503
    assert "hash-32" in r.json()["error"] and "assistant index" in r.json()["error"] and "restart" in r.json()["error"]
    # The stream checks the question before it opens: the same 503 and advice, not a 200 with an error event.
    assert streamed.status_code == 503 and streamed.json() == r.json()
    assert health.status_code == 503 and "hash-32" in health.json()["error"]
