"""Standalone query -> ranked sections: dense (Chroma) and BM25 signals, fused.

Usage::

    search = HybridSearch(store, embedder, settings)
    hits = search.search("Who founded Xiaomi?")          # [SectionHit, ...], best first
    retriever = SectionRetriever(search=search)          # the same, as a LangChain retriever

Signals per section (each decided by measurement, see README "Retrieval ablation"):
dense similarity of the heading path, of the best sentence window and of the best sentence
(Chroma nearest-neighbour queries), and BM25 over sentences and over whole sections.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from index.catalog import Catalog, SectionView, content_terms
from index.embeddings import Embedder
from index.store import ChromaStore

if TYPE_CHECKING:
    from assistant.settings import Settings


@dataclass(frozen=True)
class Weights:
    """Fusion weights of the normalised signals (tuned on the tuning split)."""

    title: float = 0.2
    window: float = 0.5
    sentence: float = 0.5
    bm25_sentence: float = 0.2
    bm25_section: float = 0.2
    centroid: float = 0.5


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
    scores: dict[str, float] = field(default_factory=dict)  # fused score of every candidate section


class HybridSearch:
    """Dense + lexical search over the live index generation (reloaded when it changes)."""

    def __init__(self, store: ChromaStore, embedder: Embedder, settings: Settings,
                 weights: Weights | None = None, refresh_seconds: float = 2.0) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self.weights = weights or Weights()
        self.refresh_seconds = refresh_seconds
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
            have = {h.section.id for h in result.hits}
            kept = result.hits[: max(1, k - len(parts))]
            for part in result.parts:
                if part.hits and part.hits[0].section.id not in {h.section.id for h in kept}:
                    hit = part.hits[0]
                    kept.append(SectionHit(hit.section, result.scores.get(hit.section.id, 0.0), hit.signals,
                                           hit.sentence_scores))
            kept += [h for h in result.hits if h.section.id not in {x.section.id for x in kept}]
            del have
            result.hits = sorted(kept[: max(k, len(parts) + 1)], key=lambda h: -h.score)
            result.timings["parts_ms"] = sum(p.timings["total_ms"] for p in result.parts)
        return result

    def _search_one(self, query: str, k: int) -> SearchResult:
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        catalog = self.catalog()
        vector = self.embedder.embed([query])[0]
        t1 = time.perf_counter()
        timings["embed_ms"] = (t1 - t0) * 1000
        dense: dict[str, dict[str, float]] = {"title": {}, "window": {}, "sentence": {}}
        sentence_dense: dict[int, float] = {}
        for kind, many in (("title", 40), ("window", 40), ("sentence", 80)):
            for hit in self.store.query(vector, kind, min(many, max(1, catalog_size(catalog, kind)))):
                sid = hit.metadata["section_id"]
                if sid not in catalog.sections:
                    continue
                best = dense[kind].get(sid, -1.0)
                dense[kind][sid] = max(best, hit.similarity)
                if kind == "sentence" and hit.id in catalog.sentence_index:
                    sentence_dense[catalog.sentence_index[hit.id]] = hit.similarity
        t2 = time.perf_counter()
        timings["vector_ms"] = (t2 - t1) * 1000

        terms = content_terms(query)
        bm25_sent, bm25_sec = catalog.lexical.score(terms)
        t3 = time.perf_counter()
        timings["bm25_ms"] = (t3 - t2) * 1000

        centroid = catalog.section_centroids @ vector if len(catalog) else np.zeros(0)
        dense["centroid"] = {sid: float(v) for sid, v in zip(catalog.centroid_ids, centroid, strict=True)}
        scores = self._fuse(catalog, dense, bm25_sent, bm25_sec)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], catalog.order[kv[0]]))[: max(k, 1)]
        hits = []
        sent_max = float(bm25_sent.max()) if bm25_sent.size and bm25_sent.max() > 0 else 1.0
        for sid, (score, signals) in ranked:
            section = catalog.sections[sid]
            idx = section.sentences
            sims = catalog.sentence_vectors[idx] @ vector if idx else np.zeros(0)
            sentence_scores = {
                i: float(0.75 * sim + 0.25 * bm25_sent[i] / sent_max) for i, sim in zip(idx, sims, strict=True)
            }
            hits.append(SectionHit(section, score, signals, sentence_scores))
        timings["fusion_ms"] = (time.perf_counter() - t3) * 1000
        timings["total_ms"] = (time.perf_counter() - t0) * 1000
        return SearchResult(query, hits, vector, terms, timings, scores={sid: v[0] for sid, v in scores.items()})

    def rescore_sentences(self, result: SearchResult, focus: str) -> None:
        """Score the retrieved sections' sentences against ``focus`` (a follow-up's own words),
        while the sections stay ranked by the expanded query."""
        catalog = self.catalog()
        vector = self.embedder.embed([focus])[0]
        terms = content_terms(focus)
        bm25_sent, _ = catalog.lexical.score(terms)
        top = float(bm25_sent.max()) if bm25_sent.size and bm25_sent.max() > 0 else 1.0
        for hit in result.hits:
            idx = hit.section.sentences
            sims = catalog.sentence_vectors[idx] @ vector if idx else np.zeros(0)
            hit.sentence_scores = {
                i: float(0.75 * sim + 0.25 * bm25_sent[i] / top) for i, sim in zip(idx, sims, strict=True)
            }

    def _fuse(self, catalog: Catalog, dense: dict[str, dict[str, float]],
              bm25_sent: np.ndarray, bm25_sec: np.ndarray) -> dict[str, tuple[float, dict[str, float]]]:
        w = self.weights
        lex_sent: dict[str, float] = {}
        for i, value in enumerate(bm25_sent):
            if value > 0:
                sid = catalog.sentences[i].section_id
                lex_sent[sid] = max(lex_sent.get(sid, 0.0), float(value))
        lex_sec = {sid: float(v) for sid, v in zip(catalog.lexical.section_ids, bm25_sec, strict=True) if v > 0}
        max_ls = max(lex_sent.values(), default=0.0) or 1.0
        max_lc = max(lex_sec.values(), default=0.0) or 1.0
        candidates = set(lex_sent) | set(lex_sec)
        for kind in ("title", "window", "sentence"):
            candidates |= set(dense[kind])
        # A section beyond Chroma's n nearest scores at most the n-th similarity: use that floor.
        floor = {k: min(dense[k].values(), default=0.0) for k in ("title", "window", "sentence")}
        out = {}
        for sid in candidates:
            signals = {
                "title": dense["title"].get(sid, floor["title"]),
                "window": dense["window"].get(sid, floor["window"]),
                "sentence": dense["sentence"].get(sid, floor["sentence"]),
                "bm25_sentence": lex_sent.get(sid, 0.0) / max_ls,
                "bm25_section": lex_sec.get(sid, 0.0) / max_lc,
                "centroid": dense["centroid"].get(sid, 0.0),
            }
            score = (w.title * signals["title"] + w.window * signals["window"] + w.sentence * signals["sentence"]
                     + w.bm25_sentence * signals["bm25_sentence"] + w.bm25_section * signals["bm25_section"]
                     + w.centroid * signals["centroid"])
            out[sid] = (score, signals)
        return out


_PART_SPLIT = re.compile(
    r"\?\s+(?=\w)|;\s+|,?\s+(?:and|also|as well as|plus)\s+"
    r"(?=(?:what|how|why|who|which|where|when|does|do|is|are|can|did|whom|by whom)\b)",
    re.I,
)


def question_parts(question: str) -> list[str]:
    """Split "What is X, and how does Y?" into its parts (one part for a simple question).

    A follow-up's borrowed context, "(...)", stays with the question and is not split.
    """
    if question.rstrip().endswith(")"):
        return [question]
    parts = [p.strip(" ,?") for p in _PART_SPLIT.split(question) if p and len(content_terms(p)) >= 1]
    return parts if len(parts) > 1 else [question]


def catalog_size(catalog: Catalog, kind: str) -> int:
    if kind == "sentence":
        return len(catalog.sentences)
    return len(catalog.sections)


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
