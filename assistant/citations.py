"""Model output with [n] markers -> an Answer whose every shown sentence is backed by its cited section.

Usage::

    answer = validate_answer(text, hits, catalog, answered_by="llamacpp:model.gguf")
    if not answer.citations:  # no sentence survived: use the extractive answer
        ...

The model's markers are never trusted by themselves: each sentence is checked against the text of
the section it cites (share of its content words found in the section, and every number it states
must appear there). A marker that points nowhere, or at a section that does not support the
sentence, is dropped or moved to the retrieved section that does; sentences no retrieved section
supports go to ``Answer.unsupported`` and are not shown. Quotes are verbatim document sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.models import Answer, Citation
from index.catalog import content_terms, words
from index.chunking import sentence_spans

if TYPE_CHECKING:
    from assistant.retriever import SectionHit
    from index.catalog import Catalog, SectionView

# Share of a sentence's content words that its section must contain. Calibrated on hand-written
# paraphrases vs. wrong-section / invented sentences over the bundled document (docs/llm.md,
# tests/assistant/test_citations.py::CALIBRATION): supported pairs score >= 0.71, invented or
# injected sentences <= 0.29; a true sentence against a long wrong section reached 0.67, which
# SUPPORT_MARGIN catches when the right section was retrieved too.
SUPPORT_THRESHOLD = 0.6
MAX_QUOTE = 600  # characters; longer joined quotes become separate citations
SUPPORT_MARGIN = 0.25  # a cited section this much weaker than the best retrieved one loses the marker
NO_ANSWER = "the document does not say"

_MARKER = re.compile(r"\[\s*(\d+(?:\s*[,;]\s*\d+)*)\s*\]")
_END = re.compile(r"[.!?]+[\"')]*(?:\s*\[\s*\d+(?:\s*[,;]\s*\d+)*\s*\])*(?=\s|$)")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")
_NUMBER = re.compile(r"\d")
_MARKUP = re.compile(r"</?[A-Za-z][\w:-]*(?:\s[^<>]*)?/?>")  # "</source>": the prompt's tags, echoed
_MIN_TERMS = 2  # a claim of one content word ("</source>" -> "source") states nothing to check


@dataclass
class Claim:
    """One sentence of the model's answer: its text without markers and the markers it carried."""

    text: str
    cited: list[int]
    kept: list[int] = field(default_factory=list)  # source numbers that support it (1-based)
    support: float = 0.0


def split_claims(text: str) -> list[Claim]:
    """Split model output into sentences; markers after the final period belong to the sentence."""
    claims = []
    for line in _MARKUP.sub(" ", text).splitlines():
        line = _BULLET.sub("", line)
        pos = 0
        pieces = []
        for m in _END.finditer(line):
            pieces.append(line[pos : m.end()])
            pos = m.end()
        pieces.append(line[pos:])
        for piece in pieces:
            cited = [int(n) for m in _MARKER.finditer(piece) for n in re.split(r"[,;]", m.group(1))]
            sentence = re.sub(r"\s+([.!?,;:])", r"\1", _MARKER.sub("", piece))
            sentence = " ".join(sentence.split())
            if sentence.strip(" .!?"):
                claims.append(Claim(sentence, cited))
    return claims


@lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    return frozenset(content_terms(text))


@lru_cache(maxsize=4096)
def _numbers(text: str) -> frozenset[str]:
    return frozenset(w for w in words(text) if _NUMBER.search(w))


@lru_cache(maxsize=1024)
def _sentences(section_text: str) -> tuple[str, ...]:
    """The section's sentences (split once per section, not once per checked claim)."""
    spans = sentence_spans(section_text) or [(0, len(section_text))]
    return tuple(section_text[a:b] for a, b in spans)


_NEGATION = re.compile(r"\b(?:not|no|never|none|nor|without|cannot)\b|n['’]t\b", re.I)
_ECHO = re.compile(r"^\W*(?:question|q)\s*:", re.I)


def support(sentence: str, section_text: str) -> float:
    """Share of the sentence's content words found in the section; 0 if it has fewer than two
    content words, if it states a number it lacks, if it is a question (a model echoing
    "Question: ...?" states nothing), or if it negates what the section sentence closest to it
    affirms, or the reverse."""
    terms = _terms(sentence)
    if len(terms) < _MIN_TERMS or not _numbers(sentence) <= _numbers(section_text):
        return 0.0
    if sentence.rstrip().endswith("?") or _ECHO.match(sentence):
        return 0.0
    closest = max(_sentences(section_text), key=lambda s: len(terms & _terms(s)))
    if bool(_NEGATION.search(sentence)) != bool(_NEGATION.search(closest)):
        return 0.0
    return len(terms & _terms(section_text)) / len(terms)


def is_no_answer(sentence: str) -> bool:
    return " ".join(words(sentence)) == NO_ANSWER


def check_claims(claims: list[Claim], hits: list[SectionHit], threshold: float = SUPPORT_THRESHOLD) -> None:
    """Fill ``kept`` and ``support``: keep cited sources that support the sentence, else move to the best."""
    for claim in claims:
        scores = [support(claim.text, h.section.text) for h in hits]
        valid = [n for n in dict.fromkeys(claim.cited) if 1 <= n <= len(hits)]
        top = max(scores, default=0.0)
        claim.kept = [n for n in valid if scores[n - 1] >= max(threshold, top - SUPPORT_MARGIN)]
        if not claim.kept and scores:
            best = max(range(len(scores)), key=lambda i: scores[i])
            if scores[best] >= threshold:
                claim.kept = [best + 1]
        claim.support = max((scores[n - 1] for n in claim.kept), default=max(scores, default=0.0))


def best_sentence(claim: str, section: SectionView, catalog: Catalog) -> tuple[int, int]:
    """Document offsets of the section sentence that best overlaps the claim (verbatim quote span)."""
    terms = _terms(claim)
    best: tuple[float, int, int] | None = None
    for i in section.sentences:
        s = catalog.sentences[i]
        score = len(terms & _terms(s.text)) / (1 + 0.002 * len(s.text))
        if best is None or score > best[0]:
            best = (score, s.start, s.end)
    if best is None:  # a section with no sentence records: its opening words
        cut = section.text.rfind(" ", 0, 240)
        return section.start, section.start + (cut if cut > 0 else min(len(section.text), 240))
    return best[1], best[2]


def validate_answer(text: str, hits: list[SectionHit], catalog: Catalog, answered_by: str,
                    threshold: float = SUPPORT_THRESHOLD) -> Answer:
    """The validated answer; empty text and no citations when no sentence is supported (caller falls back)."""
    claims = [c for c in split_claims(text) if not is_no_answer(c.text)]
    check_claims(claims, hits, threshold)
    shown = [c for c in claims if c.kept]
    quotes: list[tuple[int, int, int]] = []  # (source number, start, end), one per citation
    sentences = []
    for claim in shown:
        marks = []
        for n in claim.kept:
            marks.append(_cite(quotes, n, best_sentence(claim.text, hits[n - 1].section, catalog)))
        sentences.append(f"{claim.text} {''.join(f'[{m}]' for m in dict.fromkeys(marks))}")
    citations = []
    for n, start, end in quotes:
        hit = hits[n - 1]
        section = hit.section
        quote = section.text[start - section.start : end - section.start]
        citations.append(Citation(section.document, section.title, section.path, quote, hit.score,
                                  section.id, start, end))
    return Answer(answer=" ".join(sentences), abstained=False, answered_by=answered_by,
                  citations=citations, unsupported=[c.text for c in claims if not c.kept])


def _cite(quotes: list[tuple[int, int, int]], n: int, span: tuple[int, int]) -> int:
    """The citation number for ``span`` of source ``n``: an existing quote of that section grows to
    cover it when the joined span stays short (<= MAX_QUOTE chars), else a new citation."""
    for i, (m, start, end) in enumerate(quotes):
        if m == n and max(end, span[1]) - min(start, span[0]) <= MAX_QUOTE:
            quotes[i] = (n, min(start, span[0]), max(end, span[1]))
            return i + 1
    quotes.append((n, *span))
    return len(quotes)
