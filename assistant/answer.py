"""Ranked sections -> a short extractive answer whose every sentence is a cited document sentence.

Usage::

    answerer = ExtractiveAnswerer(settings)
    answer = answerer.answer(question, search_result)

No language model: it picks the sentences of the retrieved sections that best answer the
question (dense similarity, BM25, and coverage of the question's terms and of each part of a
two-part question), keeps them verbatim, and cites the section each came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.models import Answer, Citation
from assistant.retriever import SearchResult
from index.catalog import Catalog, content_terms

if TYPE_CHECKING:
    from assistant.settings import Settings

_PART_SPLIT = re.compile(r"\?\s+|;\s+|,?\s+(?:and|also|as well as|plus)\s+(?=(?:what|how|why|who|which|where|when|does|do|is|are|can|did)\b)", re.I)


@dataclass
class Candidate:
    index: int  # catalog sentence index
    section_rank: int
    score: float
    terms: set[str]


def question_parts(question: str) -> list[str]:
    """Split "What is X, and how does Y?" into its parts (one part for a simple question)."""
    parts = [p.strip(" ,?") for p in _PART_SPLIT.split(question) if p and len(content_terms(p)) >= 1]
    return parts or [question]


class ExtractiveAnswerer:
    """Composes answers from verbatim document sentences."""

    name = "extractive"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def candidates(self, result: SearchResult, catalog: Catalog) -> list[Candidate]:
        q_terms = set(result.terms)
        top = result.hits[0].score if result.hits else 1.0
        out = []
        for rank, hit in enumerate(result.hits):
            rel = hit.score / top if top > 0 else 0.0
            for i, s in hit.sentence_scores.items():
                terms = set(content_terms(catalog.sentences[i].text)) & q_terms
                out.append(Candidate(i, rank, s + 0.15 * rel, terms))
        out.sort(key=lambda c: -c.score)
        return out

    def select(self, question: str, result: SearchResult, catalog: Catalog) -> list[Candidate]:
        """The sentences to answer with, best first."""
        cands = self.candidates(result, catalog)
        if not cands:
            return []
        chosen = [cands[0]]
        parts = question_parts(question)
        if len(parts) > 1:
            for part in parts:
                p_terms = set(content_terms(part))
                if not p_terms or any(p_terms & c.terms for c in chosen if len(p_terms & c.terms) >= max(1, len(p_terms) // 2)):
                    continue
                best = max(cands, key=lambda c: (len(p_terms & set(content_terms(catalog.sentences[c.index].text))), c.score))
                if best not in chosen and len(p_terms & set(content_terms(catalog.sentences[best.index].text))) > 0:
                    chosen.append(best)
        covered = set().union(*(c.terms for c in chosen))
        for c in cands[1:]:
            if len(chosen) >= self.settings.max_answer_sentences:
                break
            if c in chosen:
                continue
            new_terms = c.terms - covered
            if c.score >= cands[0].score - 0.06 and (new_terms or c.section_rank == chosen[0].section_rank):
                chosen.append(c)
                covered |= c.terms
        return chosen[: self.settings.max_answer_sentences]

    def answer(self, question: str, result: SearchResult, catalog: Catalog) -> Answer:
        chosen = self.select(question, result, catalog)
        return compose(chosen, result, catalog, self.name)


def compose(chosen: list[Candidate], result: SearchResult, catalog: Catalog, answered_by: str) -> Answer:
    """Answer text with [n] markers, one citation per section, quotes verbatim."""
    by_section: dict[str, list[Candidate]] = {}
    for c in chosen:
        by_section.setdefault(catalog.sentences[c.index].section_id, []).append(c)
    hit_score = {h.section.id: h.score for h in result.hits}
    citations: list[Citation] = []
    marker: dict[str, int] = {}
    # Most relevant section first.
    for sid in sorted(by_section, key=lambda s: -max(c.score for c in by_section[s])):
        section = catalog.sections[sid]
        sents = sorted((catalog.sentences[c.index] for c in by_section[sid]), key=lambda s: s.start)
        start, end = sents[0].start, sents[-1].end
        contiguous = all(
            b.start >= a.end and not section.text[a.end - section.start : b.start - section.start].strip()
            for a, b in zip(sents, sents[1:], strict=False)
        )
        if not contiguous:
            start, end = sents[0].start, sents[0].end
        quote = section.text[start - section.start : end - section.start]
        marker[sid] = len(citations) + 1
        citations.append(Citation(section.document, section.title, section.path, quote,
                                  hit_score.get(sid, 0.0), sid, start, end))
    ordered = sorted(chosen, key=lambda c: (marker[catalog.sentences[c.index].section_id], catalog.sentences[c.index].start))
    text = " ".join(f"{catalog.sentences[c.index].text} [{marker[catalog.sentences[c.index].section_id]}]" for c in ordered)
    return Answer(answer=text, abstained=False, answered_by=answered_by, citations=citations, query=result.query)
