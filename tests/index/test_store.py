"""The Chroma store: publish/read/query roundtrip, atomic pointer switch, generation garbage collection."""

from __future__ import annotations

import numpy as np
import pytest

from index.store import ChromaStore, IndexMissingError, Record, build_store

pytestmark = pytest.mark.integration  # a real Chroma


def vec(*xs: float) -> np.ndarray:
    v = np.zeros(8, dtype=np.float32)
    v[: len(xs)] = xs
    return v / np.linalg.norm(v)


def records(tag: str) -> list[Record]:
    meta = {"document": "d.txt", "section_id": "s1", "title": "T", "path": ["P", "T"], "start": 0, "end": 5}
    return [
        Record(f"{tag}-a", f"alpha {tag}", {**meta, "kind": "sentence"}, vec(1, 0)),
        Record(f"{tag}-b", f"beta {tag}", {**meta, "kind": "sentence"}, vec(0, 1)),
        Record(f"{tag}-t", f"title {tag}", {**meta, "kind": "title"}, vec(1, 1)),
    ]


def generations(store: ChromaStore) -> set[str]:
    names = {c if isinstance(c, str) else c.name for c in store.client.list_collections()}
    return {n for n in names if n.startswith(store.name + "-") and not n.endswith("--active")}


@pytest.fixture
def store(settings) -> ChromaStore:
    return build_store(settings)


def test_an_empty_store_says_to_index_first(store):
    assert store.active_generation() is None and store.count() == 0
    with pytest.raises(IndexMissingError, match="assistant index"):
        store.records()


def test_publish_then_read_and_query_roundtrip(store):
    generation = store.publish(records("g1"))
    assert store.active_generation() == generation and store.count() == 3
    got = {r.id: r for r in store.records(with_embeddings=True)}
    assert set(got) == {"g1-a", "g1-b", "g1-t"}
    assert got["g1-a"].text == "alpha g1"
    assert got["g1-a"].metadata["path"] == ["P", "T"] and got["g1-a"].metadata["start"] == 0
    np.testing.assert_allclose(got["g1-b"].embedding, vec(0, 1), atol=1e-6)

    hits = store.query(vec(0.1, 1), kind="sentence", k=2)
    assert [h.id for h in hits] == ["g1-b", "g1-a"]  # nearest first, only the asked kind
    assert hits[0].similarity == pytest.approx(float(vec(0.1, 1) @ vec(0, 1)), abs=1e-4)
    assert [h.id for h in store.query(vec(1, 0), kind="title", k=5)] == ["g1-t"]


def test_publish_switches_every_reader_to_the_new_generation(store, settings):
    first = store.publish(records("g1"))
    reader = build_store(settings)  # another process's view
    assert {r.id for r in reader.records(with_embeddings=False)} == {"g1-a", "g1-b", "g1-t"}
    second = store.publish(records("g2"))
    assert second != first
    assert reader.active_generation() == second
    assert {r.id for r in reader.records(with_embeddings=False)} == {"g2-a", "g2-b", "g2-t"}
    assert reader.generation == second
    assert [h.id for h in reader.query(vec(1, 0), "sentence", 1)] == ["g2-a"]


def test_garbage_collection_keeps_only_the_live_and_previous_generation(store):
    names = [store.publish(records(f"g{i}")) for i in range(4)]
    assert generations(store) == {names[-1], names[-2]}
    # a crashed half-build is dropped by the next publish too
    store.client.create_collection(f"{store.name}-crashed", embedding_function=None)
    latest = store.publish(records("g5"))
    assert generations(store) == {latest, names[-1]}


def test_the_index_survives_a_new_client(store, settings):
    generation = store.publish(records("g1"))
    del store
    again = build_store(settings)
    assert again.active_generation() == generation and again.count() == 3


def test_old_generations_leave_no_folders_behind(store, settings):
    """Embedded Chroma keeps a deleted collection's vector folder (chroma-core/chroma#5259): the
    store sweeps them, so the data dir stays level however often the index is rebuilt."""
    def folders() -> set[str]:
        return {p.name for p in settings.chroma_dir.iterdir() if p.is_dir()}

    store.orphan_min_age = 0.0
    for i in range(6):
        store.publish(records(f"g{i}"))
    assert 1 <= len(folders()) <= 2  # the live and the previous generation at most
    assert [h.id for h in build_store(settings).query(vec(1, 0), "sentence", 1)] == ["g5-a"]
