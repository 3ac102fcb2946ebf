"""Fuzzed `assistant ask --jsonl`: every input line gets one JSON line back, an answer or an error.

Random Unicode, control characters, lone surrogates, huge strings, wrong JSON types, missing
fields and long histories must never end the stream with a traceback.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.cli import _ask_jsonl

pytestmark = pytest.mark.integration

FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                         st.text(max_size=20))
any_json = st.recursive(json_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
nasty_text = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(codec=None, categories=["Cc", "Cs", "Co", "Zs", "Mn"]), max_size=100),
    st.sampled_from(["\ud800", "a\udfffb", "\x00\x1b[31m", " \t ", "", "?" * 2000, "é" * 2001,
                     "In what year was Xiaomi founded?\x00\x07", "Who founded Xiaomi?\u202e\u200b"]),
)
roles = st.one_of(st.sampled_from(["user", "assistant"]), any_json)
turn = st.fixed_dictionaries({}, optional={"role": roles, "content": st.one_of(nasty_text, any_json)})
history = st.one_of(st.none(), any_json, st.lists(st.one_of(turn, any_json), max_size=6))
request = st.fixed_dictionaries({}, optional={"question": st.one_of(nasty_text, any_json),
                                              "history": history})


def run_jsonl(assistant, lines: list[str]) -> tuple[int, list[dict]]:
    out = io.StringIO()
    with mock.patch("sys.stdin", io.StringIO("".join(line + "\n" for line in lines))), \
            contextlib.redirect_stdout(out):
        status = _ask_jsonl(assistant)
    text = out.getvalue()
    text.encode("utf-8")  # strict: a lone surrogate in the output would crash a real terminal
    # JSON lines are split on "\n" only: U+0085 or U+2028 inside a string is not a line break.
    return status, [json.loads(line) for line in text.split("\n") if line]


def check(status: int, inputs: list[str], outputs: list[dict]) -> None:
    assert status in (0, 2)
    assert len(outputs) == len([i for i in inputs if i.strip()])
    for out in outputs:
        assert isinstance(out, dict)
        if "error" in out:
            assert isinstance(out["error"], str) and out["error"].startswith("line ")
            assert status == 2
        else:
            assert isinstance(out["answer"], str) and out["answer"]
            assert isinstance(out["citations"], list) and isinstance(out["abstained"], bool)


@FUZZ
@given(st.lists(request, min_size=1, max_size=3))
def test_random_requests_get_an_answer_or_an_error_line(real_assistant, requests) -> None:
    lines = [json.dumps(r) for r in requests]  # ensure_ascii: lone surrogates travel as \ud800
    status, outputs = run_jsonl(real_assistant, lines)
    check(status, lines, outputs)


@FUZZ
@given(st.lists(st.one_of(any_json.map(json.dumps), st.text(max_size=200)), min_size=1, max_size=3)
       .map(lambda ls: [line.replace("\n", " ").replace("\r", " ") for line in ls]))
def test_arbitrary_lines_and_wrong_json_types(real_assistant, lines) -> None:
    status, outputs = run_jsonl(real_assistant, lines)
    check(status, lines, outputs)


def test_a_good_question_after_garbage_is_still_answered(real_assistant) -> None:
    lines = ['{"question": 42}', "not json", "[1, 2]", '{"history": []}', '{"question": "\\ud800"}',
             json.dumps({"question": "In what year was Xiaomi founded, and by whom?"})]
    status, outputs = run_jsonl(real_assistant, lines)
    assert status == 2
    assert [("error" in o) for o in outputs[:4]] == [True] * 4
    assert "error" in outputs[4] or outputs[4]["abstained"]
    assert outputs[5]["citations"][0]["section"] == "Company Background" and "2010" in outputs[5]["answer"]


def test_huge_question_and_deep_nesting_are_refused_cleanly(real_assistant) -> None:
    lines = [json.dumps({"question": "x" * 1_000_000}), "[" * 50_000 + "]" * 50_000,
             json.dumps({"question": "Who founded Xiaomi?", "history": [[[[[[[]]]]]]]})]
    status, outputs = run_jsonl(real_assistant, lines)
    assert status == 2 and len(outputs) == 3
    assert "too long" in outputs[0]["error"]
    assert "error" in outputs[1] and "error" in outputs[2]


def test_a_thousand_turn_history_is_answered_and_one_more_is_refused(real_assistant) -> None:
    turns = [{"role": ("user", "assistant")[i % 2], "content": f"Turn {i} about Xiaomi's smartphones."}
             for i in range(1000)]
    ok = json.dumps({"question": "And who founded the company?", "history": turns})
    too_long = json.dumps({"question": "And who founded it?", "history": turns + turns[:1]})
    status, outputs = run_jsonl(real_assistant, [ok, too_long])
    assert "answer" in outputs[0]
    assert "history is too long" in outputs[1]["error"]


def test_invalid_utf8_on_stdin_gets_an_error_line_not_a_traceback(real_assistant) -> None:
    """A real process: bytes that are not UTF-8 must not kill the stream."""
    data_dir = Path(real_assistant.settings.data_dir)
    stdin = b'{"question": "caf\xe9?"}\n' + json.dumps({"question": "Who founded Xiaomi?"}).encode() + b"\n"
    proc = subprocess.run([str(Path(sys.executable).parent / "assistant"), "--data-dir", str(data_dir),
                           "ask", "--jsonl"], input=stdin, capture_output=True, timeout=180,
                          env=dict(os.environ, PYTHONIOENCODING="utf-8:strict"))
    assert b"Traceback" not in proc.stderr, proc.stderr.decode(errors="replace")[-2000:]
    outputs = [json.loads(line) for line in proc.stdout.decode("utf-8").splitlines()]
    assert len(outputs) == 2
    assert "Lei Jun" in outputs[1]["answer"]
