"""The whole index path: files -> sections -> chunks -> embeddings -> Chroma (+ BM25).

Usage::

    report = index_documents([Path("documents/report.md")], store, embedder)
    print(report.summary())

Every file is read and split before anything is written, so a bad file among good ones
changes nothing. Chunk ids come from content: records whose id is already stored keep their
embedding, so an unchanged document embeds nothing and a changed one embeds only what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from index.chunking import Chunk, chunk_sections, embed_text
from index.embeddings import Embedder
from index.sections import Document, DocumentError, Section, load_document, split_sections
from index.store import ChromaStore, IndexMissingError, Record

ProgressFactory = Callable[[int, str], "Progress"]


class Progress:
    """A minimal progress sink; :func:`tqdm_progress` draws a bar on the terminal."""

    def update(self, n: int) -> None:  # pragma: no cover - trivial
        pass

    def close(self) -> None:  # pragma: no cover - trivial
        pass


def tqdm_progress(total: int, desc: str) -> Progress:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="chunk")  # type: ignore[return-value]


@dataclass
class IndexReport:
    documents: list[str]
    sections: int = 0
    chunks: int = 0
    embedded: int = 0
    removed: int = 0
    generation: str | None = None
    unchanged: bool = False
    model_changed: bool = False  # the index held another embedding model's vectors
    replaced: dict[str, str] = field(default_factory=dict)  # name -> the other file it came from before
    section_titles: dict[str, list[str]] = field(default_factory=dict)

    def summary(self) -> str:
        if self.unchanged:
            return (f"Index up to date: {', '.join(self.documents)} "
                    f"({self.sections} sections, {self.chunks} chunks); nothing embedded.")
        note = "; the embedding model changed, so every chunk was embedded again" if self.model_changed else ""
        replaced = "".join(f" {name} had been indexed from {before}: this file replaces it."
                           for name, before in sorted(self.replaced.items()))
        return (f"Indexed {', '.join(self.documents)}: {self.sections} sections, {self.chunks} chunks "
                f"({self.embedded} embedded, {self.removed} removed{note}).{replaced}")


def read_documents(paths: Sequence[Path]) -> list[tuple[Document, list[Section]]]:
    """Load and split every file first; any DocumentError aborts before writing."""
    if not paths:
        raise DocumentError("no documents to index (ASSISTANT_DOCUMENTS is empty)")
    names: dict[str, Path] = {}
    texts: dict[str, Path] = {}
    out = []
    for path in paths:
        doc = load_document(Path(path))
        if doc.name in names:
            if names[doc.name].resolve() == Path(path).resolve():
                continue  # the same file named twice: index it once
            raise DocumentError(f"{path}: another document is already named {doc.name}")
        if doc.text in texts:  # every answer would quote the same sentence twice
            raise DocumentError(f"{path}: the same text as {texts[doc.text]}; index one of them")
        names[doc.name] = Path(path)
        texts[doc.text] = Path(path)
        sections = split_sections(doc)
        if not any(s.text.strip() for s in sections):  # "# Title only": every question would be declined
            raise DocumentError(f"{path}: only headings, no text under them to answer from")
        out.append((doc, sections))
    return out


def _refuse_copies(loaded: list[tuple[Document, list[Section]]], chunks: list[Chunk], kept: list[Record]) -> None:
    """A document with the same text as one already indexed under another name ("canteen-copy.txt",
    "PARKING.MD") would have every answer quote the same sentence twice: refused before writing."""
    stored: dict[str, set[tuple[tuple[str, ...], str]]] = {}  # document -> its (heading path, chunk text)s
    for r in kept:
        stored.setdefault(str(r.metadata.get("document")), set()).add((tuple(r.metadata.get("path") or ()), r.text))
    for doc, _ in loaded:
        texts = {(c.path, c.text) for c in chunks if c.document == doc.name}
        same = next((name for name, held in stored.items() if held == texts), None)
        if texts and same is not None:
            raise DocumentError(f"{doc.name}: the same text as {same}, already indexed; index one of them "
                                f"(--replace drops the documents not named)")


def chunk_metadata(chunk: Chunk, source: str | None = None) -> dict[str, object]:
    """``source``: the file the document was read from (documents are cited by file name)."""
    meta: dict[str, object] = {
        "kind": chunk.kind, "section_id": chunk.section_id, "document": chunk.document,
        "title": chunk.title, "path": list(chunk.path), "start": chunk.start, "end": chunk.end,
        "level": len(chunk.path),
    }
    if source:
        meta["source"] = source
    return meta


def index_documents(
    paths: Sequence[Path],
    store: ChromaStore,
    embedder: Embedder,
    *,
    max_tokens: int = 200,
    replace: bool = False,
    progress: ProgressFactory | None = None,
) -> IndexReport:
    """Index ``paths`` (adding to or updating the stored documents; ``replace`` drops the others)."""
    loaded = read_documents(paths)
    report = IndexReport(documents=[doc.name for doc, _ in loaded])
    chunks: list[Chunk] = []
    for doc, sections in loaded:
        chunks.extend(chunk_sections(sections, doc.text, embedder.count_tokens, max_tokens))
        report.sections += len(sections)
        report.section_titles[doc.name] = [s.title for s in sections]
    report.chunks = len(chunks)

    try:
        existing = store.records(with_embeddings=True)
    except IndexMissingError:
        existing = []
    names = set(report.documents)
    sources = {Path(p).name: str(Path(p).resolve()) for p in paths}
    for r in existing:  # a document is known by its file name: another file of that name replaces it
        name, before = r.metadata.get("document"), r.metadata.get("source")
        if name in names and before and before != sources.get(name):
            report.replaced[name] = before
    kept = [r for r in existing if not replace and r.metadata.get("document") not in names]
    _refuse_copies(loaded, chunks, kept)
    old_for_docs = {r.id: r for r in existing if r.metadata.get("document") in names}

    # Vectors of another embedding model cannot be mixed with this one's: all are re-embedded.
    model_changed = bool(existing) and store.built_with() != embedder.identity
    todo = [c for c in chunks if model_changed or c.id not in old_for_docs]
    new_ids = {c.id for c in chunks}
    report.removed = sum(1 for rid in old_for_docs if rid not in new_ids)
    dropped_docs = len(existing) - len(kept) - len(old_for_docs)
    # Unchanged text elsewhere can still move (an edit above shifts offsets): compare metadata too.
    moved = any(old_for_docs[c.id].metadata != chunk_metadata(c, sources.get(c.document))
                for c in chunks if c.id in old_for_docs)
    if not todo and not report.removed and not dropped_docs and not moved and existing:
        report.unchanged = True
        report.generation = store.active_generation()
        return report

    vectors = _embed([c.embed_text for c in todo], embedder, progress)
    embedded = {c.id: v for c, v in zip(todo, vectors, strict=True)}
    if model_changed and kept:  # the other documents' records, from their stored text
        texts = [embed_text(r.metadata.get("kind", ""), r.metadata.get("path", []), r.text) for r in kept]
        kept = [Record(r.id, r.text, r.metadata, v)
                for r, v in zip(kept, _embed(texts, embedder, progress), strict=True)]
    records = list(kept)
    for c in chunks:
        vector = embedded[c.id] if c.id in embedded else old_for_docs[c.id].embedding
        records.append(Record(c.id, c.text, chunk_metadata(c, sources.get(c.document)), vector))
    report.embedded = len(todo) + (len(kept) if model_changed else 0)
    report.removed += dropped_docs
    report.model_changed = model_changed
    report.generation = store.publish(records, embedder.identity)
    return report


def remove_documents(names: Sequence[str], store: ChromaStore) -> IndexReport:
    """Drop the named documents (file names, as cited) from the index and keep the others as they
    are (no embedding). A name the index does not hold, or removing every document, is a
    DocumentError before anything is written."""
    existing = store.records(with_embeddings=True)
    held = sorted({str(r.metadata.get("document")) for r in existing})
    unknown = [n for n in names if n not in held]
    if unknown:
        raise DocumentError(f"{', '.join(unknown)}: not in the index (it holds {', '.join(held) or 'nothing'})")
    records = [r for r in existing if r.metadata.get("document") not in names]
    if not records:
        raise DocumentError("that would leave the index empty: index another document first, "
                            "or use `assistant index --replace` with the documents to keep")
    report = IndexReport(documents=[d for d in held if d not in names], removed=len(existing) - len(records))
    report.sections = sum(1 for r in records if r.metadata.get("kind") == "title")
    report.chunks = len(records)
    report.generation = store.publish(records, store.built_with() or "")
    return report


def _embed(texts: list[str], embedder: Embedder, progress: ProgressFactory | None) -> list:
    import numpy as np

    if not texts:
        return []
    bar = progress(len(texts), "Embedding") if progress else None
    # Groups of 64 (for the progress bar) of texts of similar length: the model pads each batch to
    # its longest text, and the embedder sorts only within the texts of one call, so groups in
    # document order mixed headings with long windows (0.6 s of the bundled document's 2.6 s).
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    vectors: list = [None] * len(texts)
    batch = 64
    for start in range(0, len(order), batch):
        part = order[start : start + batch]
        for i, vector in zip(part, embedder.embed([texts[i] for i in part]), strict=True):
            vectors[i] = vector
        if bar:
            bar.update(len(part))
    if bar:
        bar.close()
    return list(np.stack(vectors))
