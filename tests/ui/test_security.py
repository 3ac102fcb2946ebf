"""Who may call /api/* and frame /widget: allowed origins, the API key, the rate limit, escaping."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from assistant.feedback import FeedbackStore
from assistant.models import Answer, Citation
from ui.security import HostPolicy, OriginPolicy, RateLimiter
from ui.server import create_app

HOSTILE = "<script>alert('x')</script> <img src=x onerror=\"alert('y')\">"


class FakeAssistant:
    """A canned answer whose quote carries markup, so tests need no index."""

    def ask(self, question: object, history: object = None) -> Answer:
        return Answer(answer=f"It says {HOSTILE} [1]", abstained=False, answered_by="fake", citations=[
            Citation("doc.md", "Badge", ("Handbook", "Badge"), HOSTILE, 0.9)])

    def stream(self, question: object, history: object = None):
        yield "token", "It "
        yield "answer", self.ask(question, history)

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "answerer": "fake", "sections": 1}


def make_client(settings, tmp_path, **update: Any) -> TestClient:
    s = settings.model_copy(update={"rate_limit": 0, **update})
    return TestClient(create_app(s, FakeAssistant(), FeedbackStore(tmp_path / "f.sqlite3"), chat=False))  # type: ignore[arg-type]


ASK = {"question": "What does the badge section say?"}



# --- Host names (DNS rebinding) --------------------------------------------------
def test_a_server_bound_to_localhost_refuses_other_host_names(settings, tmp_path) -> None:
    """A page on evil.example whose DNS now points at 127.0.0.1 sends its own origin and Host:
    same-origin to itself, but not a name this server answers to."""
    s = settings.model_copy(update={"rate_limit": 0})
    app = create_app(s, FakeAssistant(), FeedbackStore(tmp_path / "f.sqlite3"), chat=False,  # type: ignore[arg-type]
                     bind_host="127.0.0.1")
    evil = TestClient(app, base_url="http://evil.example:7860")
    r = evil.post("/api/ask", json=ASK, headers={"Origin": "http://evil.example:7860"})
    assert r.status_code == 400 and "ASSISTANT_ALLOWED_HOSTS" in r.json()["error"]
    assert evil.get("/widget").status_code == 400
    for local in ("http://localhost:7860", "http://127.0.0.1:7860", "http://[::1]:7860"):
        assert TestClient(app, base_url=local).post("/api/ask", json=ASK).status_code == 200


def test_listed_host_names_are_served_and_a_network_bound_server_serves_any(settings, tmp_path) -> None:
    s = settings.model_copy(update={"rate_limit": 0, "allowed_hosts": ["assistant.corp", "*.intranet.corp"]})
    app = create_app(s, FakeAssistant(), FeedbackStore(tmp_path / "f.sqlite3"), chat=False,  # type: ignore[arg-type]
                     bind_host="0.0.0.0")
    assert TestClient(app, base_url="https://assistant.corp").get("/healthz").status_code == 200
    assert TestClient(app, base_url="https://chat.intranet.corp").get("/healthz").status_code == 200
    assert TestClient(app, base_url="https://evil.example").get("/healthz").status_code == 400
    assert TestClient(app, base_url="https://intranet.corp.evil.example").get("/healthz").status_code == 400
    open_app = create_app(settings, FakeAssistant(), FeedbackStore(tmp_path / "g.sqlite3"), chat=False,  # type: ignore[arg-type]
                          bind_host="0.0.0.0")
    assert TestClient(open_app, base_url="http://10.1.2.3:7860").get("/healthz").status_code == 200


def test_host_policy_unit() -> None:
    local = HostPolicy([], "127.0.0.1")
    assert local.allows("localhost:7860") and local.allows("127.0.0.1") and local.allows("[::1]:80")
    assert not local.allows("evil.example") and not local.allows(None) and not local.allows("localhost.evil.example")
    assert not local.allows("127.evil.example:7860") and local.allows("127.0.0.2:7860")  # a name is no address
    assert HostPolicy(["[fe80::1]"], "127.0.0.1").allows("[fe80::1]:7860")  # listed as sent, brackets and all
    assert HostPolicy([], "0.0.0.0").allows("anything.example")
    assert HostPolicy(["*"], "127.0.0.1").allows("anything.example")


# --- CORS ----------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8081", "http://testserver"])
def test_default_allows_localhost_and_same_origin_echoing_the_origin(settings, tmp_path, origin) -> None:
    r = make_client(settings, tmp_path).post("/api/ask", json=ASK, headers={"Origin": origin})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == origin


def test_the_openapi_schema_asks_for_the_bearer_key_when_one_is_set(settings, tmp_path) -> None:
    spec = make_client(settings, tmp_path, api_key="s3cret").get("/openapi.json").json()
    assert spec["paths"]["/api/ask"]["post"]["security"] == [{"bearer": []}]
    assert "security" not in spec["paths"]["/healthz"]["get"]


def test_configured_origin_is_allowed_and_others_refused(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path, allowed_origins=["https://intranet.example.com"])
    ok = c.post("/api/ask", json=ASK, headers={"Origin": "https://intranet.example.com"})
    assert ok.headers["access-control-allow-origin"] == "https://intranet.example.com"
    assert ok.headers["access-control-expose-headers"] == "Retry-After"  # the page's script can read a 429's wait
    bad = c.post("/api/ask", json=ASK, headers={"Origin": "https://evil.example.net"})
    assert bad.status_code == 403 and "not allowed" in bad.json()["error"]
    assert "access-control-allow-origin" not in bad.headers


def test_preflight_allows_the_authorization_header_for_allowed_origins_only(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path, api_key="s3cret", allowed_origins=["https://intranet.example.com"])
    pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = c.options("/api/ask/stream", headers={"Origin": "https://intranet.example.com", **pre})
    assert ok.status_code == 204
    assert ok.headers["access-control-allow-origin"] == "https://intranet.example.com"  # never "*"
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    denied = c.options("/api/ask", headers={"Origin": "https://evil.example.net", **pre})
    assert denied.status_code == 403 and "access-control-allow-origin" not in denied.headers


def test_widget_may_be_framed_only_by_allowed_origins(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path, allowed_origins=["https://intranet.example.com"])
    csp = c.get("/widget").headers["content-security-policy"]
    ancestors = next(p for p in csp.split(";") if "frame-ancestors" in p).split()
    assert ancestors[1] == "'self'" and "https://intranet.example.com" in ancestors
    assert "http://localhost:*" in ancestors and "*" not in ancestors
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_origin_policy_unit() -> None:
    policy = OriginPolicy(["https://Intranet.Example.com/"])
    assert policy.allows("https://intranet.example.com")
    assert policy.allows("http://localhost:5173") and policy.allows("http://[::1]:80")
    assert policy.allows("https://wiki.corp:8443", own_host="wiki.corp:8443")
    assert policy.allows("https://wiki.corp", own_host="wiki.corp")  # TLS ended by a proxy in front
    assert not policy.allows("https://wiki.corp.evil.net", own_host="wiki.corp")
    assert not policy.allows("https://intranet.example.com.evil.net")
    assert not policy.allows("null") and not policy.allows(None)


# --- API key -----------------------------------------------------------------------
@pytest.mark.parametrize("header", [None, "Bearer wrong", "s3cret", "Basic s3cret", "Bearer "])
def test_missing_or_wrong_key_is_401(settings, tmp_path, header) -> None:
    c = make_client(settings, tmp_path, api_key="s3cret")
    headers = {"Authorization": header} if header is not None else {}
    for path, body in (("/api/ask", ASK), ("/api/ask/stream", ASK),
                       ("/api/feedback", {"question": "q", "answer": {"answer": "a"}, "rating": "up"})):
        r = c.post(path, json=body, headers=headers)
        assert r.status_code == 401, path
        assert "API key" in r.json()["error"] and r.headers["www-authenticate"] == "Bearer"


def test_right_key_is_accepted_and_healthz_stays_open(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path, api_key="s3cret")
    assert c.post("/api/ask", json=ASK, headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/healthz").json()["status"] == "ok"
    assert c.get("/widget").status_code == 200 and c.get("/embed.js").status_code == 200


# --- rate limit --------------------------------------------------------------------
def test_rate_limit_answers_429_with_retry_after(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path, rate_limit=3)
    codes = [c.post("/api/ask", json=ASK).status_code for _ in range(3)]
    assert codes == [200, 200, 200]
    r = c.post("/api/ask/stream", json=ASK)
    assert r.status_code == 429 and "Too many requests" in r.json()["error"]
    assert 1 <= int(r.headers["retry-after"]) <= 60
    assert c.get("/healthz").status_code == 200  # health checks are not limited


def test_guessing_the_api_key_is_rate_limited_too(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path, rate_limit=3, api_key="s3cret")
    codes = [c.post("/api/ask", json=ASK, headers={"Authorization": "Bearer guess"}).status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429]


def test_the_chat_page_behind_a_tls_proxy_is_its_own_origin(settings, tmp_path) -> None:
    """The proxy speaks HTTP to the server and keeps the Host: the page's https origin is its own."""
    s = settings.model_copy(update={"rate_limit": 0, "allowed_hosts": ["assistant.corp"]})
    app = create_app(s, FakeAssistant(), FeedbackStore(tmp_path / "f.sqlite3"), chat=False,  # type: ignore[arg-type]
                     bind_host="127.0.0.1")
    c = TestClient(app, base_url="http://assistant.corp")
    r = c.post("/api/ask", json=ASK, headers={"Origin": "https://assistant.corp"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://assistant.corp"


def test_rate_limiter_window_slides_per_client() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert limiter.check("a") == 0 and limiter.check("a") == 0
    assert limiter.check("a") == pytest.approx(60.0)
    assert limiter.check("b") == 0  # another client has its own window
    now[0] = 30.0
    assert limiter.check("a") == pytest.approx(30.0)
    now[0] = 60.5
    assert limiter.check("a") == 0


# --- escaping ------------------------------------------------------------------------
def test_api_returns_markup_as_json_text_never_as_html(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path)
    r = c.post("/api/ask", json=ASK)
    assert r.headers["content-type"] == "application/json"
    assert r.json()["citations"][0]["quote"] == HOSTILE  # verbatim data, the consumer escapes
    stream = c.post("/api/ask/stream", json=ASK)
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert HOSTILE.replace('"', '\\"') in stream.text


def test_widget_script_inserts_text_only_with_text_content() -> None:
    from ui.widget import STATIC_DIR

    for name in ("widget.js", "embed.js"):
        source = (STATIC_DIR / name).read_text()
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source
        assert "document.write" not in source and "eval(" not in source


def test_finished_streams_free_their_answer_slot(settings, tmp_path) -> None:
    c = make_client(settings, tmp_path, max_concurrency=1)
    for _ in range(3):  # one slot: each stream must give it back when done
        r = c.post("/api/ask/stream", json=ASK)
        assert r.status_code == 200 and r.text.rstrip().split("\n\n")[-1].startswith("event: answer")


def test_the_chats_gradio_calls_share_the_rate_limit(settings, tmp_path) -> None:
    """The chat page has no key, but a script calling its Gradio API is limited like /api/*."""
    s = settings.model_copy(update={"rate_limit": 2, "api_key": "s3cret"})
    app = create_app(s, FakeAssistant(), FeedbackStore(tmp_path / "f.sqlite3"))  # type: ignore[arg-type]
    with TestClient(app) as c:
        call = {"data": ["What does the badge section say?", [], None]}
        codes = [c.post("/gradio_api/call/ask", json=call).status_code for _ in range(3)]
        assert codes[:2] == [200, 200] and codes[2] == 429
        assert c.get("/").status_code == 200  # the page itself is not limited


def test_api_errors_keep_the_json_shape_for_wrong_paths_methods_types_and_sizes(settings, tmp_path) -> None:
    app = create_app(settings.model_copy(update={"rate_limit": 0}), FakeAssistant(),  # type: ignore[arg-type]
                     FeedbackStore(tmp_path / "f.sqlite3"))  # with the chat mounted at "/"
    with TestClient(app) as c:
        wrong_method = c.get("/api/ask")
        assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
        assert "POST" in wrong_method.json()["error"]
        assert c.head("/api/ask").status_code == 405  # not the chat app's 404
        latin1 = c.post("/api/ask", content='{"question": "Qui a fondé Xiaomi?"}'.encode("latin-1"),
                        headers={"content-type": "application/json"})
        assert latin1.status_code == 400 and "Malformed JSON" in latin1.json()["error"]
        nowhere = c.post("/api/nope", json=ASK)
        assert nowhere.status_code == 404 and "/api/nope" in nowhere.json()["error"]
        form = c.post("/api/ask", content=b'{"question": "hi"}',
                      headers={"content-type": "application/x-www-form-urlencoded"})
        assert form.status_code == 415 and "Content-Type: application/json" in form.json()["error"]
        huge = c.post("/api/ask", json={"question": "hi", "history": [{"role": "user", "content": "x" * (1 << 20)}]})
        assert huge.status_code == 413 and "body" in huge.json()["error"]
        assert c.post("/api/ask", json=ASK).status_code == 200


def test_a_chunked_body_over_the_limit_is_refused_and_one_under_it_is_answered(settings, tmp_path) -> None:
    """A body sent in chunks says no Content-Length: it is counted as it comes."""
    app = create_app(settings.model_copy(update={"rate_limit": 0}), FakeAssistant(),  # type: ignore[arg-type]
                     FeedbackStore(tmp_path / "f.sqlite3"))

    def chunks(total: int):
        head = b'{"question": "What does the badge section say?", "pad": "'
        yield head
        for _ in range(total // 65536):
            yield b"x" * 65536
        yield b'"}'

    with TestClient(app) as c:
        huge = c.post("/api/ask", content=chunks(2 << 20), headers={"content-type": "application/json"})
        assert huge.status_code == 413 and "body" in huge.json()["error"]
        small = c.post("/api/ask", content=chunks(1 << 16), headers={"content-type": "application/json"})
        assert small.status_code == 200 and small.json()["citations"]


def test_uptime_checkers_may_use_head(settings, tmp_path) -> None:
    app = create_app(settings, FakeAssistant(), FeedbackStore(tmp_path / "f.sqlite3"))  # type: ignore[arg-type]
    with TestClient(app) as c:
        for path in ("/healthz", "/widget", "/embed.js"):
            r = c.head(path)
            assert r.status_code == 200 and r.content == b"", path


def test_an_options_request_that_is_no_preflight_gets_the_allowed_methods_once(settings, tmp_path) -> None:
    """With the chat mounted, Gradio's own CORS layer must not answer /api/* a second time."""
    app = create_app(settings.model_copy(update={"rate_limit": 0}), FakeAssistant(),  # type: ignore[arg-type]
                     FeedbackStore(tmp_path / "f.sqlite3"))
    with TestClient(app) as c:
        r = c.options("/api/ask", headers={"Origin": "http://localhost:3000"})
        assert r.status_code == 204 and "POST" in r.headers["allow"]
        assert r.headers.get_list("access-control-allow-origin") == ["http://localhost:3000"]
        assert c.options("/api/ask", headers={"Origin": "https://evil.example.net"}).status_code == 403


class _Down(FakeAssistant):
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def ask(self, question: object, history: object = None):
        raise self.exc

    def stream(self, question: object, history: object = None):
        raise self.exc


@pytest.mark.parametrize(("exc", "status", "fragment"), [
    (ConnectionRefusedError("chroma down"), 503, "cannot be reached"),
    (RuntimeError("bug"), 500, "The assistant failed: RuntimeError"),
])
def test_a_crash_or_an_unreachable_store_is_a_json_error(settings, tmp_path, exc, status, fragment) -> None:
    app = create_app(settings.model_copy(update={"rate_limit": 0, "max_concurrency": 1}),
                     _Down(exc), FeedbackStore(tmp_path / "f.sqlite3"), chat=False)  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as c:
        # Twice each, with one answer slot: a failed request gives its slot back (not "busy").
        for path in ("/api/ask", "/api/ask/stream") * 2:
            r = c.post(path, json=ASK)
            assert r.status_code == status and fragment in r.json()["error"], path
            assert r.headers["content-type"] == "application/json"
