"""Standalone query -> ranked sections: dense (Chroma) and BM25 signals, fused.

Usage::

    search = HybridSearch(store, embedder, settings)
    hits = search.search("Who founded Xiaomi?")          # [SectionHit, ...], best first
    retriever = SectionRetriever(search=search)          # the same, as a LangChain retriever

Signals per section (each decided by measurement, see README "Retrieval ablation"):
dense similarity of the heading path, of the best sentence window and of the best sentence
(Chroma nearest-neighbour queries), and BM25 over sentences and over whole sections. Everyday
words of the query add, at a lower BM25 weight, the formal words the documents use for them
(assistant/lexicon.py).
"""

from __future__ import annotations

import functools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.lexicon import RegisterLexicon
from index.catalog import SUBJECT_STAND_IN, Catalog, SectionView, content_terms, stem
from index.embeddings import Embedder
from index.store import ChromaStore

if TYPE_CHECKING:
    from assistant.settings import Settings


@dataclass(frozen=True)
class Weights:
    """Fusion weights of the normalised signals, chosen by a grid search on the tuning sets and
    held-out sets 1 and 2 (held-out 3 was never used). The heading's own vector earns nothing
    there (headings already prefix every window and sentence that is embedded), so it is off."""

    title: float = 0.0
    window: float = 0.4
    sentence: float = 0.7
    bm25_sentence: float = 0.1
    bm25_section: float = 0.1
    centroid: float = 0.3
    expansion: float = 0.5  # BM25 of the formal words added for everyday ones (assistant/lexicon.py)


@dataclass
class SectionHit:
    section: SectionView
    score: float
    signals: dict[str, float] = field(default_factory=dict)
    sentence_scores: dict[int, float] = field(default_factory=dict)  # catalog sentence index -> score


@dataclass
class SearchResult:
    query: str
    hits: list[SectionHit]
    query_vector: np.ndarray
    terms: list[str]
    timings: dict[str, float] = field(default_factory=dict)
    parts: list[SearchResult] = field(default_factory=list)  # one per part of a two-part question
    fused: np.ndarray | None = field(default=None, repr=False)  # fused score of every section (catalog order)
    generation: str | None = None  # the index generation searched


class HybridSearch:
    """Dense + lexical search over the live index generation (reloaded when it changes)."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings,
                 weights: Weights | None = None, refresh_seconds: float = 2.0) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.weights = weights or Weights()
        self.lexicon = RegisterLexicon.load(settings.query_lexicon)
        self.refresh_seconds = refresh_seconds
        self.nearest_k = 400  # Chroma neighbours per query, all kinds together
        self.strip_subjects = True  # dense query without the documents' subject names (see without_subjects)
        self._catalog: Catalog | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def catalog(self) -> Catalog:
        """The catalog of the live generation; re-checked every ``refresh_seconds``."""
        now = time.monotonic()
        if self._catalog is not None and now - self._checked < self.refresh_seconds:
            return self._catalog
        with self._lock:
            if self._catalog is None or now - self._checked >= self.refresh_seconds:
                generation = self.store.active_generation()
                if self._catalog is None or generation != self._catalog.generation:
                    self.store.check_embedder(self.embedder.identity)
                    catalog = Catalog.load(self.store)
                    if self.settings.chroma_url:
                        _ = catalog.lexical  # a replica rebuilds BM25 from the server's records
                    else:
                        catalog.attach_lexical(self.settings.data_dir / "bm25")
                    self._catalog = catalog
                self._checked = time.monotonic()
        assert self._catalog is not None
        return self._catalog

    def warm_up(self) -> None:
        self.embedder.load()
        self.catalog()
        self.search("warm up")

    def search(self, query: str, k: int | None = None) -> SearchResult:
        """Rank sections for ``query``; a two-part question also searches each part."""
        k = k or self.settings.top_k
        result = self._search_one(query, k)
        parts = question_parts(query)
        if len(parts) > 1:
            result.parts = [self._search_one(p, k) for p in parts]
            # Keep each part's best section, scored (and so ranked) on the whole question.
            kept = result.hits[: max(1, k - len(parts))]
            for part in result.parts:
                if part.hits and part.hits[0].section.id not in {h.section.id for h in kept}:
                    hit = part.hits[0]
                    whole = self.catalog().section_pos[hit.section.id]
                    score = float(result.fused[whole]) if result.fused is not None else hit.score
                    kept.append(SectionHit(hit.section, score, hit.signals, hit.sentence_scores))
            kept += [h for h in result.hits if h.section.id not in {x.section.id for x in kept}]
            result.hits = sorted(kept[: max(k, len(parts) + 1)], key=lambda h: -h.score)
            result.timings["parts_ms"] = sum(p.timings["total_ms"] for p in result.parts)
        return result

    def _search_one(self, query: str, k: int) -> SearchResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        catalog = self.catalog()
        vector = self.embedder.embed([self._dense_text(query, catalog)])[0]
        t1 = time.perf_counter()
        timings["embed_ms"] = (t1 - t0) * 1000
        n = len(catalog)
        pos = catalog.section_pos
        # A section beyond Chroma's n nearest scores at most the n-th similarity: that is its floor.
        dense: dict[str, np.ndarray] = {}
        nearest = self.store.nearest(vector, min(self.nearest_k, max(1, catalog.records)))
        for kind in ("title", "window", "sentence"):
            hits = [h for h in nearest if h.metadata.get("kind") == kind and h.metadata["section_id"] in pos]
            values = np.full(n, min((h.similarity for h in hits), default=0.0), dtype=np.float32)
            for h in hits:
                i = pos[h.metadata["section_id"]]
                if h.similarity > values[i]:
                    values[i] = h.similarity
            dense[kind] = values
        t2 = time.perf_counter()
        timings["vector_ms"] = (t2 - t1) * 1000

        terms, bm25_sent, bm25_sec = self._lexical(query, catalog)
        t3 = time.perf_counter()
        timings["bm25_ms"] = (t3 - t2) * 1000

        lex_sent = np.zeros(n, dtype=np.float32)
        if bm25_sent.size:
            np.maximum.at(lex_sent, catalog.sentence_section, bm25_sent)
        signals = {
            **dense,
            "bm25_sentence": lex_sent / (lex_sent.max() or 1.0),
            "bm25_section": bm25_sec / (bm25_sec.max() or 1.0) if bm25_sec.size else np.zeros(n, np.float32),
            "centroid": catalog.section_centroids @ vector if n else np.zeros(0, np.float32),
        }
        w = self.weights
        fused = sum(getattr(w, name) * values for name, values in signals.items())
        top: list[int] = list(np.lexsort((catalog.order_array, -fused))[: max(k, 1)]) if n else []
        hits_out = []
        sent_max = float(bm25_sent.max()) if bm25_sent.size and bm25_sent.max() > 0 else 1.0
        for i in top:
            section = catalog.sections[catalog.section_ids[i]]
            idx = section.sentences
            sims = catalog.sentence_vectors[idx] @ vector if idx else np.zeros(0)
            sentence_scores = {
                j: float(0.75 * sim + 0.25 * bm25_sent[j] / sent_max) for j, sim in zip(idx, sims, strict=True)
            }
            hits_out.append(SectionHit(section, float(fused[i]), {k2: float(v[i]) for k2, v in signals.items()},
                                       sentence_scores))
        timings["fusion_ms"] = (time.perf_counter() - t3) * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return SearchResult(query, hits_out, vector, terms, timings, fused=fused, generation=catalog.generation)

    def overview(self) -> SearchResult:
        """The documents' opening section and their summary or closing section, for "what is this
        document about?": each scored by position, opening sentences first."""
        catalog = self.catalog()
        ordered = sorted((s for s in catalog.sections.values() if s.sentences), key=lambda s: catalog.order[s.id])
        if not ordered:
            return SearchResult("", [], np.zeros(0, np.float32), [], {})
        closing = [s for s in ordered if _SUMMARY_TITLE.search(s.title)]
        picked = [ordered[0]] + [s for s in closing[-1:] if s.id != ordered[0].id]
        hits = [SectionHit(s, 1.0 - 0.01 * rank, {}, {i: 1.0 - 0.1 * n for n, i in enumerate(s.sentences)})
                for rank, s in enumerate(picked)]
        return SearchResult("", hits, np.zeros(0, np.float32), [], {})

    def part_asked(self, question: str) -> SectionView | None:
        """See :func:`part_asked`."""
        return part_asked(self.catalog(), question)

    def part_overview(self, part: SectionView) -> SearchResult:
        """``part`` and its subsections in document order, each scored by position (its opening
        sentence first): an answer quotes the part's opening and each subsection's."""
        catalog = self.catalog()
        hits = [SectionHit(s, 1.0 - 0.01 * rank, {}, {i: 1.0 - 0.1 * n for n, i in enumerate(s.sentences)})
                for rank, s in enumerate([part, *catalog.subsections(part)])]
        return SearchResult("", hits, np.zeros(0, np.float32), [], {})

    def blend(self, result: SearchResult, other: SearchResult, weight: float) -> SearchResult:
        """Re-rank ``result``'s sections by its fused scores plus ``weight`` times ``other``'s
        (a follow-up: the standalone query, blended with the follow-up's own words)."""
        catalog = self.catalog()
        if result.fused is None or other.fused is None or result.fused.shape != other.fused.shape:
            return result
        fused = (result.fused + weight * other.fused) / (1.0 + weight)
        known = {h.section.id: h for h in other.hits + result.hits}
        hits = []
        for i in np.lexsort((catalog.order_array, -fused))[: max(len(result.hits), 1)]:
            sid = catalog.section_ids[i]
            old = known.get(sid)
            hits.append(SectionHit(catalog.sections[sid], float(fused[i]), dict(old.signals) if old else {},
                                   dict(old.sentence_scores) if old else {}))
        return SearchResult(result.query, hits, result.query_vector, result.terms, result.timings, result.parts, fused,
                            result.generation)

    def _lexical(self, query: str, catalog: Catalog) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The query's BM25 terms and the BM25 scores of every sentence and section, with the
        formal words the documents use for its everyday ones ("perks" -> "benefits", "rewards")
        at ``Weights.expansion``."""
        terms = content_terms(query)
        extra: list[str] = []
        if self.weights.expansion:
            # "go public" -> "listing": the phrase's own words ("go") would match "Go-to-Market".
            idioms = self.lexicon.idiom_stems(query, catalog.stems, catalog.uses_phrase)
            terms = [t for t in terms if t not in idioms]
            extra = self.lexicon.terms(query, catalog.stems, catalog.uses_phrase)
        bm25_sent, bm25_sec = catalog.lexical.score(terms)
        if extra:
            more_sent, more_sec = catalog.lexical.score(extra)
            bm25_sent = bm25_sent + self.weights.expansion * more_sent
            bm25_sec = bm25_sec + self.weights.expansion * more_sec
        return terms, bm25_sent, bm25_sec

    def _dense_text(self, query: str, catalog: Catalog) -> str:
        return without_subjects(query, catalog.subjects) if self.strip_subjects else query

    def rescore_sentences(self, result: SearchResult, focus: str, vector: np.ndarray | None = None) -> None:
        """Score the retrieved sections' sentences against ``focus`` (a follow-up's own words),
        while the sections stay ranked by the expanded query. ``vector``: focus's query vector,
        when a search for it already embedded it."""
        catalog = self.catalog()
        if vector is None:
            vector = self.embedder.embed([self._dense_text(focus, catalog)])[0]
        _, bm25_sent, _ = self._lexical(focus, catalog)
        top = float(bm25_sent.max()) if bm25_sent.size and bm25_sent.max() > 0 else 1.0
        for hit in result.hits:
            idx = hit.section.sentences
            sims = catalog.sentence_vectors[idx] @ vector if idx else np.zeros(0)
            hit.sentence_scores = {
                i: float(0.75 * sim + 0.25 * bm25_sent[i] / top) for i, sim in zip(idx, sims, strict=True)
            }


@functools.lru_cache(maxsize=8)
def _subject_pattern(subjects: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(re.escape(s) for s in sorted(subjects)) + r")(?:['’]s)?\b", re.I)


def without_subjects(query: str, subjects: set[str]) -> str:
    """The query for the dense signals, without the names every section is about.

    "Xiaomi" in a question about a report on Xiaomi tells no section from another, yet it pulls
    the embedding towards the overview sections (measured: +0.035 hit@1 on the tuning sets
    without it). So does "the company" standing for it (+0.017 hit@1 on paraphrases). BM25 keeps
    every word; a query of nothing but such names is kept whole.
    """
    if not subjects:
        return query
    stripped = SUBJECT_STAND_IN.sub(" ", _subject_pattern(frozenset(subjects)).sub(" ", query))
    stripped = re.sub(r"\s{2,}", " ", stripped).strip()
    return stripped if content_terms(stripped) else query


# Words of a broad question that ask for an overview rather than name what it is about.
_PART_FILLER = frozenset(stem(w) for w in """main major key primary principal overall different various type types
    kind kinds list all overview summary summarise summarize describe explain tell work works look like say says
    report document section part area give show outline what which who how does do are is the""".split())


def part_asked(catalog: Catalog, question: str) -> SectionView | None:
    """The part of a document a broad question names by its heading ("What are Xiaomi's key
    resources?", "Tell me about the revenue model"): a section with an opening of its own and two
    or more subsections whose heading holds every word of the question (or a longer form of a
    word of five letters or more: "partners", "partnerships") but the documents' subject and
    words that ask for an overview ("main", "what", "list"). The shortest such heading; None when
    no heading covers the question, or two fit as well."""
    subjects = catalog.subject_forms
    asked = {t for t in content_terms(question) if t not in subjects and t not in _PART_FILLER}
    if not asked:
        return None
    found = sorted(((len(heading), part) for part, heading in catalog.parts
                    if all(any(h == t or (len(t) >= 5 and h.startswith(t)) for h in heading) for t in asked)),
                   key=lambda pair: pair[0])
    # Two headings that fit as well ("strategy": Customer Relationship Strategy, Marketing
    # Strategy Overview) leave it to the search.
    if not found or (len(found) > 1 and found[1][0] == found[0][0]):
        return None
    return found[0][1]


_SUMMARY_TITLE = re.compile(r"\b(summary|conclusions?|overview|outlook|takeaways|closing|final thoughts)\b", re.I)

_PART_SPLIT = re.compile(
    r"\?\s+(?=\w)|;\s+|,?\s+(?:and|also|as well as|plus)\s+"
    r"(?=(?:what|how|why|who|which|where|when|does|do|is|are|can|did|whom|by whom)\b)"
    r"|,?\s+(?:and\s+)?then\s+(?:tell me\s+|explain\s+|say\s+|describe\s+)?"
    r"|(?<=[.!])\s+(?=[A-Z])|,?\s+and (?:also |then )?(?=about\b)",
    re.I,
)
# "Compare X with Y", "Besides X, what about Y?": two parts that the split above cannot see.
_TWO_THINGS = re.compile(
    r"^\s*(?:compare|contrast)\s+(?P<a>.+?)\s+(?:with|to|against|versus|vs\.?|and)\s+(?P<b>.+)$"
    r"|^\s*(?:besides|apart from|aside from|in addition to|beyond|other than)\s+(?P<c>[^,]+),\s*(?P<d>.+)$"
    r"|^\s*(?:since|given(?: that)?|now that)\s+(?P<e>[^,]{8,}),\s*(?P<f>.+)$",
    re.I,
)


def question_parts(question: str) -> list[str]:
    """Split "What is X, and how does Y?" into its parts (one part for a simple question).

    A follow-up's borrowed context, "(...)", stays with the question and is not split.
    """
    if question.rstrip().endswith(")"):
        return [question]
    two = _TWO_THINGS.match(question)
    if two:
        pieces = [g for g in two.groups() if g]
    else:
        pieces = _PART_SPLIT.split(question)
    parts = [p.strip(" ,?.") for p in pieces if p and len(content_terms(p)) >= 1]
    return parts if len(parts) > 1 else [question]


class SectionRetriever(BaseRetriever):
    """LangChain retriever: one Document per section, best first, scores in metadata."""

    search: Any  # HybridSearch
    k: int = 4

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        result = self.search.search(query, self.k)
        return [hit_to_document(h, result) for h in result.hits]


def hit_to_document(hit: SectionHit, result: SearchResult) -> Document:
    s = hit.section
    return Document(
        page_content=s.text,
        id=s.id,
        metadata={"section_id": s.id, "document": s.document, "title": s.title, "path": list(s.path),
                  "start": s.start, "end": s.end, "score": hit.score, "signals": hit.signals,
                  "hit": hit, "result": result},
    )
