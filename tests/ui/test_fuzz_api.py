"""Fuzzed HTTP API: any body gets a 200 answer or a 4xx JSON {"error"}, never a 500; it keeps serving."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.integration

FUZZ = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FOUNDING = {"question": "In what year was Xiaomi founded, and by whom?", "history": []}

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=30))
any_json = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
nasty = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(codec=None, categories=["Cc", "Cs", "Co", "Zs", "Mn"]), max_size=80),
    st.sampled_from(["\ud800", "", "   ", "x" * 5000, "\x00\x1b[2J", "Who founded Xiaomi?\u202e"]),
)
roles = st.one_of(st.sampled_from(["user", "assistant"]), any_json)
turn = st.fixed_dictionaries({}, optional={"role": roles, "content": st.one_of(nasty, any_json)})
body = st.fixed_dictionaries({}, optional={
    "question": st.one_of(nasty, any_json),
    "history": st.one_of(st.none(), any_json, st.lists(st.one_of(turn, any_json), max_size=5)),
})


@pytest.fixture(scope="module")
def client(real_assistant, tmp_path_factory: pytest.TempPathFactory):
    from fastapi.testclient import TestClient

    from ui.server import create_app

    app_settings = real_assistant.settings.model_copy(update={
        "rate_limit": 0, "data_dir": tmp_path_factory.mktemp("api-fuzz")})
    with TestClient(create_app(app_settings, real_assistant, chat=False), raise_server_exceptions=False) as c:
        yield c


def check(response) -> None:
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text[:500]
    if response.status_code != 200:
        payload = response.json()
        assert isinstance(payload.get("error"), str) and payload["error"]


def check_stream(response) -> None:
    check(response)
    if response.status_code == 200:
        events = [line[len("event: "):] for line in response.text.splitlines() if line.startswith("event: ")]
        assert events and events[-1] in ("answer", "error")
        assert "error" not in events, response.text[-500:]


@FUZZ
@given(payload=body)
def test_random_json_bodies(client, payload) -> None:
    raw = json.dumps(payload)  # lone surrogates travel escaped, as a browser would send them
    headers = {"Content-Type": "application/json"}
    check(client.post("/api/ask", content=raw, headers=headers))
    check_stream(client.post("/api/ask/stream", content=raw, headers=headers))


@FUZZ
@given(raw=st.one_of(st.binary(max_size=300), any_json.map(json.dumps),
                     st.text(max_size=200).map(str.encode)),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                     ""]))
def test_random_bytes_and_content_types(client, raw: bytes, content_type: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    check(client.post("/api/ask", content=raw, headers=headers))


def test_huge_and_deep_bodies_are_refused_with_4xx(client) -> None:
    for raw in (json.dumps({"question": "x" * 1_000_000}), "[" * 50_000 + "]" * 50_000,
                json.dumps({"question": "Who founded Xiaomi?", "history": [FOUNDING] * 1001})):
        response = client.post("/api/ask", content=raw, headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500 and response.json()["error"]


def test_a_thousand_turn_history_is_answered(client) -> None:
    turns = [{"role": ("user", "assistant")[i % 2], "content": f"Turn {i}"} for i in range(1000)]
    response = client.post("/api/ask", json={"question": "Who founded Xiaomi?", "history": turns})
    assert response.status_code == 200 and response.json()["answer"]


def test_the_server_keeps_serving_after_the_fuzz(client) -> None:
    client.post("/api/ask", content=b"\xff\xfe{", headers={"Content-Type": "application/json"})
    assert client.get("/healthz").status_code == 200
    answer = client.post("/api/ask", json=FOUNDING).json()
    assert answer["citations"][0]["section"] == "Company Background" and "2010" in answer["answer"]
