"""The nouns every front end shares: a turn of history, a citation, an answer.

The JSON contract (``assistant ask --json``, ``--jsonl``, ``POST /api/ask``) is produced from
these in one place, :meth:`Answer.to_json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["user", "assistant"]


@dataclass(frozen=True)
class Turn:
    role: Role
    content: str


@dataclass(frozen=True)
class Citation:
    document: str  # source file name
    section: str  # heading exactly as in the document ("Introduction" for the opening text)
    path: tuple[str, ...]
    quote: str  # verbatim, contiguous text of the section
    score: float
    section_id: str = ""
    start: int = 0  # character offsets of the quote in the document
    end: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "document": self.document, "section": self.section, "path": list(self.path),
            "quote": self.quote, "score": round(float(self.score), 4),
        }


@dataclass
class Answer:
    answer: str
    abstained: bool
    answered_by: str
    citations: list[Citation] = field(default_factory=list)
    query: str = ""  # the standalone query actually searched
    unsupported: list[str] = field(default_factory=list)  # LLM sentences no section supports
    reason: str = ""  # why it abstained ("not_in_document", "off_topic", ...), else ""
    not_answered: list[str] = field(default_factory=list)  # parts of the question the documents do not answer
    timings: dict[str, float] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "answer": self.answer,
            "abstained": self.abstained,
            "answered_by": self.answered_by,
            "citations": [c.to_json() for c in self.citations],
            "query": self.query,
        }
        if self.unsupported:
            out["unsupported"] = list(self.unsupported)
        if self.reason:
            out["reason"] = self.reason
        if self.not_answered:
            out["not_answered"] = list(self.not_answered)
        return out
