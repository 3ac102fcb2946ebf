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
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from assistant.abstain import bands, in_band, in_measure, measured_amounts
from assistant.models import Answer, Citation
from assistant.retriever import SearchResult, SectionHit
from index.catalog import (
    FAQ_ANSWER,
    LIST_ITEM,
    STEP,
    Catalog,
    SectionView,
    SentenceView,
    asks,
    content_terms,
    is_divider,
)
from index.sections import BULLET_MARK, is_row

if TYPE_CHECKING:
    from assistant.settings import Settings

@dataclass
class Candidate:
    index: int  # catalog sentence index
    section_rank: int
    score: float
    terms: set[str]
    quote_only: bool = False  # quoted for context (an FAQ's question), not said in the answer
    more: bool = False  # said after a full answer (more of the top section), not evidence for it


class ExtractiveAnswerer:
    """Composes answers from verbatim document sentences."""

    name = "extractive"

    def __init__(self, settings: Settings, runner_up: float = 0.8, margin: float = 0.25) -> None:
        self.settings = settings
        self.runner_up = runner_up
        self.margin = margin

    def _best_in(self, hit: SectionHit, rank: int, top: float, q_terms: set[str], catalog: Catalog,
                 exclude: set[int], after: Candidate | None = None,
                 covered: set[str] | None = None,
                 asked: Sequence[tuple[float, str | None]] = ()) -> Candidate | None:
        """The best sentence of one retrieved section; with ``after``, the best one that may follow
        it: nearly as good, or adding question terms it lacks. A sentence stating a band that holds
        a figure the question gives ("| £1,501 to £5,000 | ..." for a £3,000 trip) comes first."""
        rel = hit.score / top if top > 0 else 0.0
        best = None
        for i, s in hit.sentence_scores.items():
            if i in exclude:
                continue
            text = catalog.sentences[i].text
            terms = set(content_terms(text)) & q_terms
            banded = any(in_band(v, bands(text)) and in_measure(text, measure) for v, measure in asked)
            cand = Candidate(i, rank, s + 0.15 * rel + (_IN_BAND if banded else 0.0), terms)
            if after is not None and cand.score < after.score - self.margin and not (
                    cand.terms - (after.terms if covered is None else covered)):
                continue
            if best is None or cand.score > best.score:
                best = cand
        return best

    def select(self, question: str, result: SearchResult, catalog: Catalog, more: bool = False) -> list[Candidate]:
        """The sentences to answer with: the top section's best sentence first, then the best
        sentence for each part of a two-part question, then close runners-up. With ``more``, a
        full answer (one that reached the limit, a two-part one's included) may take the top
        section's next sentence beyond it, marked ``more`` (the evidence check leaves it out)."""
        if not result.hits:
            return []
        limit = self.settings.max_answer_sentences
        q_terms = set(result.terms)
        top = result.hits[0].score
        asked = measured_amounts(question)
        first = self._best_in(result.hits[0], 0, top, q_terms, catalog, set(), asked=asked)
        if first is None:
            return []
        chosen = [first]
        used = {first.index}
        rank_of = {h.section.id: r for r, h in enumerate(result.hits)}
        picks: list[tuple[SectionHit, int, set[str], Candidate]] = []
        for_part: set[int] = set()  # sentences chosen for a part of a two-part question
        for part in result.parts:
            if not part.hits or len(chosen) >= limit:
                continue
            hit = part.hits[0]
            rank = rank_of.get(hit.section.id, 1)
            have = [c for c in chosen if catalog.sentences[c.index].section_id == hit.section.id]
            if have:
                picks.append((hit, rank, set(part.terms), have[0]))
                continue
            cand = self._best_in(hit, rank, part.hits[0].score, set(part.terms), catalog, used)
            if cand:
                chosen.append(cand)
                used.add(cand.index)
                for_part.add(cand.index)
                picks.append((hit, rank, set(part.terms), cand))
        # A runner-up section that scores nearly as well as the top one adds its best sentence.
        for rank, hit in enumerate(result.hits[1:3], start=1):
            if len(chosen) >= limit or hit.score < self.runner_up * top:
                continue
            if any(catalog.sentences[c.index].section_id == hit.section.id for c in chosen):
                continue
            cand = self._best_in(hit, rank, top, q_terms, catalog, used, asked=asked)
            if cand and cand.score >= first.score - self.margin:
                chosen.append(cand)
                used.add(cand.index)
        # Each part of a two-part question may take a second sentence of its section (one more
        # sentence in all, after close runners-up): with one sentence per part, half of each
        # part's key facts were left out (two-part key-phrase recall 0.82 -> 0.90 on tuning).
        if picks:
            limit += 1
        for hit, rank, terms, best in picks:
            cand = self._best_in(hit, rank, hit.score, terms, catalog, used, after=best)
            if len(chosen) < limit and cand:
                chosen.append(cand)
                used.add(cand.index)
                for_part.add(cand.index)
        # A second sentence of the top section when it is nearly as good and adds question terms.
        # It may come after a full answer too: the answer's best source says more of what
        # was asked (key-phrase recall 0.751 -> 0.769 on tuning sets 1-24, answers 307 -> 340
        # characters on average).
        if len(chosen) < limit or (more and len(chosen) == limit):
            covered = set().union(*(c.terms for c in chosen))
            cand = self._best_in(result.hits[0], 0, top, q_terms, catalog, used, after=first, covered=covered)
            if cand:
                cand.more = len(chosen) == limit
                chosen.append(cand)
        return faq_answers(chosen, catalog, for_part)

    def runners_up(self, result: SearchResult, exclude: set[int]) -> list[Candidate]:
        """The top section's other sentences, best first (scored as ``_best_in`` scores the top
        section's: its relative score is 1)."""
        if not result.hits:
            return []
        hit = result.hits[0]
        return sorted((Candidate(i, 0, s + 0.15, set()) for i, s in hit.sentence_scores.items() if i not in exclude),
                      key=lambda c: -c.score)

    def answer(self, question: str, result: SearchResult, catalog: Catalog) -> Answer:
        chosen = self.select(question, result, catalog)
        return compose(chosen, result, catalog, self.name)


LIST_ITEMS = 8  # a lead-in chosen alone brings its list's first items
STEPS = 12  # a numbered step brings the steps of its procedure
FAQ_ANSWER_SENTENCES = 3  # an FAQ answer's opening sentences said (any chosen later one too)


def faq_answers(chosen: list[Candidate], catalog: Catalog, for_part: set[int] | frozenset[int] = frozenset()
                ) -> list[Candidate]:
    """An FAQ entry answers as a whole: a chosen sentence of it (its question, most often) gives
    way to the entry's answer, and a section gives the entry of its best sentence only, not
    fragments of its neighbours ("... Can I claim for it?" "A: Yes." of another question);
    only a sentence chosen for a part of a two-part question (in ``for_part``) adds its own
    entry of the same section."""
    out: list[Candidate] = []
    taken: dict[str, list[list[int]]] = {}  # section -> the answers it gives
    for c in chosen:
        entry = catalog.faq_entry(c.index)
        if entry is None:
            out.append(c)
            continue
        section = catalog.sentences[c.index].section_id
        answer = entry[1]
        given = taken.setdefault(section, [])
        if answer not in given and (not given or c.index in for_part):
            given.append(answer)
            # An entry after the answer's first pick says less: it is said with its question.
            said = _through_list(answer, FAQ_ANSWER_SENTENCES if c is chosen[0] else FAQ_ANSWER_SENTENCES - 1,
                                 catalog)
            out += [Candidate(i, c.section_rank, c.score, c.terms if k == 0 else set(), more=c.more)
                    for k, i in enumerate(said)]
        if answer in given and c.index in answer and all(o.index != c.index for o in out):
            out.append(c)
    return out


def _through_list(answer: list[int], count: int, catalog: Catalog) -> list[int]:
    """An FAQ answer's first ``count`` sentences; when they end at a lead-in or inside its list
    ("Follow these steps:" "1. ..."), on to the list's end (at most ``LIST_ITEMS`` items)."""
    said = answer[:count]
    last = catalog.sentences[said[-1]].text
    if last.rstrip().endswith(":") or LIST_ITEM.match(last):
        for i in answer[count:count + LIST_ITEMS]:
            if not LIST_ITEM.match(catalog.sentences[i].text):
                break
            said.append(i)
    return [i for i in said if not is_divider(catalog.sentences[i].text)]


_BULLET = re.compile(rf"^\s*{BULLET_MARK}\s+")
# "**Can I bring a guest?**", "2. **Who pays ...?**": a wholly bold line's marks (and its number).
_WRAPPED = re.compile(r"(?:\d{1,3}[.)]\s+)?([*_]{2})(?!\s)(.+?)(?<!\s)\1\s*")
_ROW_EDGES = re.compile(r"^\s*\|\s*|\s*\|\s*$")


def said(sentence: str, faq: bool = False) -> str:
    """A sentence as the answer says it: a list item's bullet ("- 45p per mile"), a table row's
    outer bars and, in an FAQ entry, "A:" and the bold marks around a whole line ("**Can I
    bring a guest?**") are layout, not words. What is left is still verbatim text of
    the quote."""
    if is_row(sentence):
        return _ROW_EDGES.sub("", sentence)
    text = _BULLET.sub("", sentence)
    if not faq:
        return text
    text = FAQ_ANSWER.sub("", text)  # a "Q:" said stays: it marks the question as the FAQ's
    wrapped = _WRAPPED.fullmatch(text)
    return wrapped.group(2) if wrapped else text


_IN_BAND = 0.3  # a sentence whose band holds the question's figure: the row that answers it

# A sentence that opens by pointing back ("This route improves uptake ...", "These insights
# inform ...", "It complemented ...") reads only after the sentence before it.
_LEANS_BACK = re.compile(r"^(?:This|These|That|Those|Such|It|Its|They|Their|Both|Together|However|But|Yet"
                         r"|If (?:not|so)|Otherwise|For (?:example|instance))\b")


def with_antecedents(chosen: list[Candidate], catalog: Catalog, two_part: bool = False) -> list[Candidate]:
    """``chosen`` plus, before each sentence that points back, the sentence of its section it
    points back to (for a list item or table row, the sentence the list hangs from), and after
    each sentence that is a question (an FAQ's "Q: Is there a gym?"), the sentence that answers
    it (when those are not chosen already)."""
    have = {c.index for c in chosen}
    out: list[Candidate] = []
    # The answer's first FAQ entry is said without its question, when it is the only one.
    entries = {id(e) for c in chosen if (e := catalog.faq_entry(c.index)) is not None}
    first = catalog.faq_entry(chosen[0].index) if chosen and len(entries) == 1 else None
    for c in chosen:
        sentence = catalog.sentences[c.index]
        order = catalog.sections[sentence.section_id].sentences
        at = catalog.position[c.index]
        entry = catalog.faq_entry(c.index)
        if entry is not None and c.index in entry[1]:
            # An FAQ answer is quoted with its question ("Q: Can I ...? A: Yes."). The answer's
            # first entry is said without it; a later one with it, or its "Yes." would read as
            # the answer to what was asked (and so is each of two).
            for i in entry[0]:
                if i not in have:
                    have.add(i)
                    out.append(Candidate(i, c.section_rank, c.score, set(), quote_only=entry is first, more=c.more))
            out.append(c)
            continue
        # The rest of a list item's line ("If not, see section 8.") reads after the item.
        host = catalog.host[c.index]
        item = c.index if host is None else host
        lead_in = catalog.lead_in(item)  # a list item or table row reads after its lead-in
        for extra in sorted(_hangs_from(c.index, catalog)):
            if extra not in have:
                have.add(extra)
                out.append(Candidate(extra, c.section_rank, c.score, set(), more=c.more))
        if lead_in is not None and (c.section_rank == 0 or two_part) and STEP.match(catalog.sentences[item].text):
            # A numbered step of the answer's section (or of a part's, for a two-part question)
            # is read with its steps ("5. Check in ..." after 1-4, "1. Go to ..." before 2-4),
            # up to twelve that end no earlier than it.
            steps = catalog.items(lead_in)
            pos = steps.index(item) if item in steps else -1
            for i in steps[max(0, pos + 1 - STEPS):][:STEPS] if pos >= 0 else []:
                if i not in have:
                    have.add(i)
                    out.append(Candidate(i, c.section_rank, c.score, set(), more=c.more))
        out.append(c)
        items = catalog.items(c.index)
        if items and not have & set(items):
            # A lead-in ("... at the following rates:") says nothing without its list.
            for i in items[:LIST_ITEMS]:
                have.add(i)
                out.append(Candidate(i, c.section_rank, c.score, set(), more=c.more))
            continue
        if asks(sentence.text) and at + 1 < len(order) and order[at + 1] not in have:
            have.add(order[at + 1])
            out.append(Candidate(order[at + 1], c.section_rank, c.score, set(), more=c.more))
    return _settle_more(out, catalog)


def _hangs_from(index: int, catalog: Catalog) -> set[int]:
    """The sentences one reads after: its lead-in, the sentence it points back to, its table's
    header row, the list item whose line it ends."""
    host = catalog.host[index]
    lead_in = catalog.lead_in(index if host is None else host)
    at = catalog.position[index]
    before = None
    if lead_in is None and at > 0 and _LEANS_BACK.match(catalog.sentences[index].text):
        before = catalog.sections[catalog.sentences[index].section_id].sentences[at - 1]
    return {i for i in (lead_in, before, catalog.table_header(index), host) if i is not None}


def _settle_more(out: list[Candidate], catalog: Catalog) -> list[Candidate]:
    """A sentence said after a full answer (``more``) is said in its place instead when the
    answer reads it anyway: it is what an answer sentence hangs from (its lead-in or the sentence
    it points back to), or it hangs from one (another item of the list the answer reads)."""
    said = {c.index for c in out if not c.more}
    hangs = {c.index: _hangs_from(c.index, catalog) for c in out}
    settled = True
    while settled:
        settled = False
        for c in out:
            if c.index not in said and (hangs[c.index] & said or any(c.index in hangs[i] for i in said)):
                said.add(c.index)
                settled = True
    return [replace(c, more=False) if c.more and c.index in said else c for c in out]


_MAX_QUOTE = 1500  # characters: a longer span between chosen sentences is quoted run by run


def _quote_spans(sents: list[SentenceView], section: SectionView) -> list[list[SentenceView]]:
    """The chosen sentences of one section (in document order) grouped into quotes: one quote
    from the first to the last when that is short enough, else one per contiguous run. Every
    chosen sentence lies inside a quote, and every quote is verbatim text of the section."""
    runs: list[list[SentenceView]] = [[sents[0]]]
    for a, b in zip(sents, sents[1:], strict=False):
        gap = section.text[a.end - section.start : b.start - section.start]
        if b.start >= a.end and not gap.strip():
            runs[-1].append(b)
        else:
            runs.append([b])
    if len(runs) == 1 or sents[-1].end - sents[0].start <= _MAX_QUOTE:
        return [sents]
    return runs


def compose(chosen: list[Candidate], result: SearchResult, catalog: Catalog, answered_by: str) -> Answer:
    """Answer text with [n] markers, one citation per section (per run of adjacent sentences in a
    very long section), quotes verbatim."""
    # (Entries chosen already stay: an FAQ sentence here only brings its entry's answer.)
    chosen = with_antecedents(faq_answers(chosen, catalog, {c.index for c in chosen}), catalog,
                              two_part=len(result.parts) > 1)
    later = {catalog.sentences[c.index].id for c in chosen if c.more}  # said after a full answer
    by_section: dict[str, list[Candidate]] = {}
    for c in chosen:
        by_section.setdefault(catalog.sentences[c.index].section_id, []).append(c)
    hit_score = {h.section.id: h.score for h in result.hits}
    citations: list[Citation] = []
    marker: dict[str, int] = {}
    # Most relevant section first: the retrieval ranking, whose score each citation reports.
    rank = {h.section.id: i for i, h in enumerate(result.hits)}
    for sid in sorted(by_section, key=lambda s: (rank.get(s, len(rank)), -max(c.score for c in by_section[s]))):
        section = catalog.sections[sid]
        sents = sorted((catalog.sentences[c.index] for c in by_section[sid]), key=lambda s: s.start)
        # A quote of only what is said after the answer is cited after the answer's own.
        for span in sorted(_quote_spans(sents, section), key=lambda span: all(s.id in later for s in span)):
            start, end = span[0].start, span[-1].end
            quote = section.text[start - section.start : end - section.start]
            for s in span:
                marker[s.id] = len(citations) + 1
            citations.append(Citation(section.document, section.title, section.path, quote,
                                      hit_score.get(sid, 0.0), sid, start, end))
    sentences = [(catalog.sentences[c.index], catalog.faq_entry(c.index) is not None, c.more)
                 for c in chosen if not c.quote_only]
    # Each citation's sentences in document order; what is said after a full answer comes after them.
    ordered = sorted(sentences, key=lambda s: (marker[s[0].id], s[2], s[0].start))
    text = " ".join(f"{said(s.text, faq)} [{marker[s.id]}]" for s, faq, _ in ordered)
    return Answer(answer=text, abstained=False, answered_by=answered_by, citations=citations, query=result.query)
