"""Evidence -> answer or abstain: decide from the retrieved text whether the document answers.

Usage::

    reason = Abstainer(settings).decide(question, result, chosen, catalog)
    if reason: ...  # "not_in_document" | "off_topic" | "injection"
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from index.catalog import Catalog

if TYPE_CHECKING:
    from assistant.answer import Candidate
    from assistant.retriever import SearchResult
    from assistant.settings import Settings

INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|prompt|rule|previous|above|context|document)s?\b"
    r"|\b(system|hidden|initial)\s+prompt\b|\byou are now\b|\bact as\b|\bjailbreak\b|\bdeveloper mode\b",
    re.I,
)


class Abstainer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def decide(self, question: str, result: SearchResult, chosen: list[Candidate], catalog: Catalog) -> str | None:
        if INJECTION.search(question):
            return "injection"
        if not chosen or not result.hits:
            return "not_in_document"
        if chosen[0].score < self.settings.abstain_threshold:
            return "not_in_document"
        return None
