"""Embeddings -> Chroma: a versioned collection per index build, switched atomically.

Each build ("generation") is written to a new collection beside the live one; only when it is
complete does a one-record pointer move to it. Readers therefore see the old index or the new
one, never half of one, and a build that crashes leaves the old index answering. The previous
generation is kept until the next build so that readers still on it finish their query.

Usage::

    store = build_store(settings)
    store.publish(records)                 # a complete new index
    hits = store.query(vector, kind="sentence", k=20)
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from assistant.settings import Settings

_POINTER_SUFFIX = "--active"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_BATCH = 1000


@dataclass
class Record:
    """One stored chunk: its text, metadata and embedding."""

    id: str
    text: str
    metadata: dict[str, Any]
    embedding: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    similarity: float  # cosine similarity, -1..1


class IndexMissingError(RuntimeError):
    """No index has been built yet."""


class StoreUnavailableError(RuntimeError):
    """The Chroma server cannot be reached."""


@contextmanager
def _reachable() -> Iterator[None]:
    """A Chroma server gone away mid-run (httpx's connect and read errors) is a StoreUnavailableError."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        raise StoreUnavailableError(f"the Chroma server cannot be reached ({type(exc).__name__})") from exc


class EmbedderMismatchError(RuntimeError):
    """The index holds another embedding model's vectors than the one configured."""


class ChromaStore:
    """The Chroma side of the index, embedded (PersistentClient) or remote (HttpClient)."""

    orphan_min_age = 10.0  # seconds: a segment folder younger than this is never swept

    def __init__(self, client: Any, name: str, persist_dir: Path | None = None) -> None:
        self.client = client
        self.name = name
        self.persist_dir = persist_dir  # embedded store only: where Chroma keeps its files
        self._collection: Any = None
        self._generation: str | None = None

    # --- generations -----------------------------------------------------------
    def _pointer(self) -> Any:
        return self.client.get_or_create_collection(
            self.name + _POINTER_SUFFIX, embedding_function=None, metadata={"active": ""}
        )

    def active_generation(self) -> str | None:
        """Name of the live collection, or None before the first build."""
        with _reachable():
            meta = self._pointer().metadata or {}
        return meta.get("active") or None

    def _open(self) -> Any:
        generation = self.active_generation()
        if generation is None:
            raise IndexMissingError("No index yet: run `assistant index` first.")
        if generation != self._generation:
            self._collection = self.client.get_collection(generation, embedding_function=None)
            self._generation = generation
        return self._collection

    @property
    def generation(self) -> str | None:
        return self._generation

    def built_with(self) -> str | None:
        """Identity of the embedding model of the live generation (None: built before it was kept)."""
        return (self._open().metadata or {}).get("embedder") or None

    def check_embedder(self, identity: str) -> None:
        """Raise :class:`EmbedderMismatchError` unless the live index was built by ``identity``."""
        built = self.built_with()
        if built is not None and built != identity:
            raise EmbedderMismatchError(
                f"the index was built with the embedding model {built}, but this assistant uses "
                f"{identity}: run `assistant index` to rebuild it with this model "
                "(ASSISTANT_EMBEDDING_MODEL chooses the model)"
            )

    # --- reading ---------------------------------------------------------------
    def count(self) -> int:
        try:
            return int(self._open().count())
        except IndexMissingError:
            return 0

    def records(self, with_embeddings: bool = True) -> list[Record]:
        """Every record of the live generation (pinned: later reads use the same one)."""
        collection = self._open()
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        out: list[Record] = []
        total = collection.count()
        for offset in range(0, total, _BATCH):
            got = collection.get(include=include, limit=_BATCH, offset=offset)
            embeddings = got.get("embeddings") if with_embeddings else None
            for i, rid in enumerate(got["ids"]):
                vector = (np.asarray(embeddings[i], dtype=np.float32) if embeddings is not None
                          else np.zeros(0, np.float32))
                out.append(Record(rid, got["documents"][i], dict(got["metadatas"][i]), vector))
        return out

    def query(self, vector: np.ndarray, kind: str, k: int) -> list[Hit]:
        """Nearest records of one kind ("title", "window" or "sentence")."""
        collection = self._collection if self._collection is not None else self._open()
        result = collection.query(
            query_embeddings=[vector.tolist()], n_results=k, where={"kind": kind},
            include=["documents", "metadatas", "distances"],
        )
        return [
            Hit(rid, doc, dict(meta), 1.0 - float(dist))
            for rid, doc, meta, dist in zip(
                result["ids"][0], result["documents"][0], result["metadatas"][0],
                result["distances"][0], strict=True,
            )
        ]

    def nearest(self, vector: np.ndarray, k: int) -> list[Hit]:
        """The ``k`` nearest records of every kind in one unfiltered query (text not fetched).

        One query over the whole collection is several times faster than one filtered query
        per kind on a large index; callers split the hits by ``metadata["kind"]``.
        """
        collection = self._collection if self._collection is not None else self._open()
        with _reachable():
            result = collection.query(query_embeddings=[vector.tolist()], n_results=k,
                                      include=["metadatas", "distances"])
        return [
            Hit(rid, "", dict(meta), 1.0 - float(dist))
            for rid, meta, dist in zip(result["ids"][0], result["metadatas"][0], result["distances"][0], strict=True)
        ]

    # --- writing ---------------------------------------------------------------
    def publish(self, records: list[Record], embedder: str = "") -> str:
        """Write a complete new generation, then switch readers to it. Returns its name.

        ``embedder``: identity of the model that made the vectors, kept with the generation."""
        generation = f"{self.name}-{uuid.uuid4().hex[:12]}"
        collection = self.client.create_collection(
            generation, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
            metadata={"complete": False, "embedder": embedder},
        )
        for start in range(0, len(records), _BATCH):
            batch = records[start : start + _BATCH]
            collection.add(
                ids=[r.id for r in batch],
                documents=[r.text for r in batch],
                metadatas=[r.metadata for r in batch],
                embeddings=np.stack([r.embedding for r in batch]),
            )
        collection.modify(metadata={"complete": True, "embedder": embedder})
        previous = self.active_generation()
        self._pointer().modify(metadata={"active": generation, "previous": previous or ""})
        self._collect_garbage(keep={generation, previous})
        self._collection, self._generation = collection, generation
        return generation

    def _collect_garbage(self, keep: set[str | None]) -> None:
        """Drop generations other than the live and previous one (incl. crashed builds)."""
        prefix = self.name + "-"
        for col in self.client.list_collections():
            name = col if isinstance(col, str) else col.name
            if name.startswith(prefix) and name != self.name + _POINTER_SUFFIX and name not in keep:
                try:
                    self.client.delete_collection(name)
                except Exception:  # noqa: BLE001 - another writer may have dropped it already
                    pass
        if self.persist_dir is not None:
            self._sweep_segment_folders(self.persist_dir)

    def _sweep_segment_folders(self, root: Path) -> None:
        """Remove the vector folders of deleted collections, which embedded Chroma 1.x leaves on
        disk (chroma-core/chroma#5259): without this the data dir grows with every re-index.

        The folders are listed before the live segments are read, and a segment is recorded
        before its folder is written, so a folder of a collection being built is never taken."""
        folders = [p for p in root.iterdir() if p.is_dir() and _UUID.fullmatch(p.name)]
        try:
            with sqlite3.connect(f"file:{root / 'chroma.sqlite3'}?mode=ro", uri=True) as db:
                live = {row[0] for row in db.execute("SELECT id FROM segments")}
        except sqlite3.Error:
            return  # an unknown layout: leave everything as it is
        now = time.time()
        for folder in folders:
            if folder.name not in live and now - folder.stat().st_mtime >= self.orphan_min_age:
                shutil.rmtree(folder, ignore_errors=True)


def build_store(settings: Settings, create: bool = True) -> ChromaStore:
    """Embedded Chroma under ``data_dir`` or, with ``chroma_url`` set, a Chroma server.

    ``create=False`` (readers): a data dir with no index raises :class:`IndexMissingError`
    instead of creating an empty store there (a mistyped ``ASSISTANT_DATA_DIR`` stays unmade)."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "localhost", port=url.port or 8000, ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:  # chromadb raises ValueError, or a connection error of httpx
            raise StoreUnavailableError(
                f"cannot reach the Chroma server at {settings.chroma_url} (ASSISTANT_CHROMA_URL): {exc}"
            ) from exc
    else:
        if not create and not (settings.chroma_dir / "chroma.sqlite3").is_file():
            raise IndexMissingError(f"No index in {settings.data_dir}: run `assistant index` first.")
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
        return ChromaStore(client, settings.collection, persist_dir=settings.chroma_dir)
    return ChromaStore(client, settings.collection)
