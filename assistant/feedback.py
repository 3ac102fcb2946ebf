"""Thumbs up/down on answers, kept in one SQLite file so answer quality can be reviewed later.

Usage::

    store = FeedbackStore.for_settings(settings)     # <data_dir>/feedback.sqlite3
    store.record("When was Xiaomi founded?", answer.to_json(), "up", "chat")
    store.export("jsonl", sys.stdout)                # or `assistant feedback export`
"""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

RATINGS = ("up", "down")
SOURCES = ("chat", "widget", "api")
FORMATS = ("jsonl", "csv")
FILE_NAME = "feedback.sqlite3"
COLUMNS = ("id", "created_at", "source", "rating", "question", "answer", "abstained",
           "answered_by", "query", "citations")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    source TEXT NOT NULL,
    rating TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    abstained INTEGER NOT NULL,
    answered_by TEXT NOT NULL,
    query TEXT NOT NULL,
    citations TEXT NOT NULL
)
"""


class FeedbackStore:
    """Ratings of answers in a SQLite file; a new connection per call, writes behind a lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._ready = False

    @classmethod
    def for_settings(cls, settings: Any) -> FeedbackStore:
        """The store at ``settings.data_dir / "feedback.sqlite3"``."""
        return cls(Path(settings.data_dir) / FILE_NAME)

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=10)
        if not self._ready:
            conn.execute(_SCHEMA)
            conn.commit()
            self._ready = True
        return conn

    def record(self, question: str, answer: dict[str, Any], rating: str, source: str) -> int:
        """Store one rating of an answer (``Answer.to_json()``); returns the new row id."""
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)} (got {rating!r}).")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)} (got {source!r}).")
        if not isinstance(question, str):
            raise ValueError("question must be a string.")
        if not isinstance(answer, dict) or not isinstance(answer.get("answer"), str):
            raise ValueError("answer must be Answer.to_json(): an object with an 'answer' string.")
        citations = answer.get("citations", [])
        if not isinstance(citations, list) or not all(
                isinstance(c, dict) and isinstance(c.get("section"), str) for c in citations):
            raise ValueError("answer.citations must be a list of Answer.to_json() citations, each with a 'section'.")
        row = (
            datetime.now(UTC).isoformat(timespec="seconds"), source, rating, question,
            answer["answer"], int(answer.get("abstained") is True),
            str(answer.get("answered_by", "")), str(answer.get("query", "")),
            json.dumps(answer.get("citations", []), ensure_ascii=False),
        )
        with self._lock, closing(self._connect()) as conn:
            cur = conn.execute(
                "INSERT INTO feedback (created_at, source, rating, question, answer, abstained,"
                " answered_by, query, citations) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            conn.commit()
            return int(cur.lastrowid or 0)

    def rerate(self, row_id: int, rating: str | None) -> None:
        """Change the rating of row ``row_id`` (a thumb turned from up to down), or remove it
        (None: the thumb undone), so that one answer holds one rating."""
        if rating is not None and rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)} (got {rating!r}).")
        with self._lock, closing(self._connect()) as conn:
            if rating is None:
                conn.execute("DELETE FROM feedback WHERE id = ?", (row_id,))
            else:
                conn.execute("UPDATE feedback SET rating = ? WHERE id = ?", (rating, row_id))
            conn.commit()

    def rows(self) -> list[dict[str, Any]]:
        """Every rating, oldest first, with citations decoded to a list."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as conn:
            cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
            out = []
            for values in cur.fetchall():
                item = dict(zip(COLUMNS, values, strict=True))
                item["abstained"] = bool(item["abstained"])
                item["citations"] = json.loads(item["citations"])
                out.append(item)
            return out

    def export(self, fmt: str, out: TextIO) -> int:
        """Write every rating as JSON lines or CSV (citations as a JSON column); returns the count."""
        if fmt not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)} (got {fmt!r}).")
        rows = self.rows()
        if fmt == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                cells = {**row, "citations": json.dumps(row["citations"], ensure_ascii=False)}
                writer.writerow({k: _inert(v) for k, v in cells.items()})
        return len(rows)


def _inert(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula ("=HYPERLINK(...)", "+1", "@SUM") gets a
    leading apostrophe, which spreadsheets show as text."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
