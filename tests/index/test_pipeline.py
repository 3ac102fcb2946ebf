"""The index path end to end (HashEmbedder + a real Chroma in tmp): incremental, atomic, all-or-nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.settings import BUNDLED_DOCUMENT
from index.chunking import embed_text
from index.embeddings import HashEmbedder
from index.pipeline import index_documents
from index.sections import DocumentError, load_document, split_sections
from index.store import EmbedderMismatchError, build_store

pytestmark = pytest.mark.integration  # a real Chroma


class CountingEmbedder(HashEmbedder):
    """HashEmbedder that remembers every text it was asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def embed(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return super().embed(texts)


class FailingEmbedder(HashEmbedder):
    def embed(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("embedding crashed")


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "docs" / "xiaomi.txt"
    path.parent.mkdir()
    shutil.copy(BUNDLED_DOCUMENT, path)
    return path


@pytest.fixture
def store(settings):
    return build_store(settings)


def snapshot(store) -> tuple[str | None, set[str]]:
    return store.active_generation(), {r.id for r in store.records(with_embeddings=False)}


def edit_section(path: Path, title: str, new_body: str) -> None:
    document = load_document(path)
    section = next(s for s in split_sections(document) if s.title == title)
    text = document.text[: section.start] + new_body + document.text[section.end :]
    path.write_text(text, encoding="utf-8")


def test_first_index_embeds_every_chunk(doc, store):
    embedder = CountingEmbedder()
    report = index_documents([doc], store, embedder)
    assert report.sections == 85 and report.chunks == store.count() > 85
    assert report.embedded == report.chunks == len(embedder.texts)
    assert not report.unchanged and report.generation == store.active_generation()
    stored = store.records(with_embeddings=False)
    titles = {r.metadata["title"] for r in stored if r.metadata["kind"] == "title"}
    assert "Company Background" in titles and len(titles) == 85


def test_reindexing_an_unchanged_document_embeds_nothing(doc, store):
    index_documents([doc], store, HashEmbedder())
    before = snapshot(store)
    embedder = CountingEmbedder()
    report = index_documents([doc], store, embedder)
    assert report.unchanged and report.embedded == 0 and embedder.texts == []
    assert "nothing embedded" in report.summary()
    assert snapshot(store) == before


def test_editing_one_section_reembeds_only_its_chunks(doc, store):
    index_documents([doc], store, HashEmbedder())
    old = {r.id: r for r in store.records(with_embeddings=False)}
    edit_section(doc, "Premium Users and Creators", "Premium users buy foldables. Creators want cameras.")
    embedder = CountingEmbedder()
    report = index_documents([doc], store, embedder)
    new = {r.id: r for r in store.records(with_embeddings=False)}
    added = [new[i] for i in set(new) - set(old)]
    gone = [old[i] for i in set(old) - set(new)]
    assert added and gone
    assert {r.metadata["title"] for r in added} == {"Premium Users and Creators"}
    assert {r.metadata["title"] for r in gone} == {"Premium Users and Creators"}
    assert report.embedded == len(added) == len(embedder.texts)
    assert all("Premium Users and Creators" in t for t in embedder.texts)
    assert not any("Premium users are" in r.text for r in new.values() if r.metadata["kind"] == "sentence")
    texts = {r.text for r in new.values()}
    assert "Creators want cameras." in texts


def test_shifted_sections_get_fresh_offsets_without_reembedding(doc, store):
    """Lengthening one section moves every later one: offsets must follow, embeddings must not."""
    index_documents([doc], store, HashEmbedder())
    background = next(s for s in split_sections(load_document(doc)) if s.title == "Company Background")
    edit_section(doc, "Company Background", background.text + " Extra words here.")
    index_documents([doc], store, HashEmbedder())
    text = load_document(doc).text
    for r in store.records(with_embeddings=False):
        assert text[r.metadata["start"] : r.metadata["end"]] == r.text


def test_whitespace_only_shift_updates_offsets(doc, store):
    index_documents([doc], store, HashEmbedder())
    doc.write_text("\n\n" + doc.read_text(encoding="utf-8"), encoding="utf-8")
    embedder = CountingEmbedder()
    report = index_documents([doc], store, embedder)
    assert embedder.texts == [] and not report.unchanged
    text = doc.read_text(encoding="utf-8")
    for r in store.records(with_embeddings=False):
        assert text[r.metadata["start"] : r.metadata["end"]] == r.text


def test_removing_a_section_deletes_its_records(doc, store):
    index_documents([doc], store, HashEmbedder())
    document = load_document(doc)
    section = next(s for s in split_sections(document) if s.title == "Premium Users and Creators")
    heading_start = document.text.rindex("Premium Users and Creators", 0, section.start)
    text = document.text[:heading_start] + document.text[section.end :].lstrip("\n")
    doc.write_text(text, encoding="utf-8")
    report = index_documents([doc], store, CountingEmbedder())
    records = store.records(with_embeddings=False)
    assert report.sections == 84 and report.removed > 0
    assert not [r for r in records if r.metadata["title"] == "Premium Users and Creators"]


def test_second_document_keeps_the_first_and_replace_drops_others(doc, store, tmp_path):
    index_documents([doc], store, HashEmbedder())
    other = tmp_path / "docs" / "notes.md"
    other.write_text("# Pricing\nPhones cost little.\n## Margins\nMargins are thin.\n", encoding="utf-8")
    index_documents([other], store, HashEmbedder())
    documents = {r.metadata["document"] for r in store.records(with_embeddings=False)}
    assert documents == {"xiaomi.txt", "notes.md"}

    report = index_documents([other], store, CountingEmbedder(), replace=True)
    documents = {r.metadata["document"] for r in store.records(with_embeddings=False)}
    assert documents == {"notes.md"} and report.removed > 0 and report.embedded == 0


def test_a_new_embedding_model_reembeds_every_document(doc, store, tmp_path):
    """Two models' vectors never share an index: all of it is embedded again, other documents too."""
    index_documents([doc], store, HashEmbedder())
    other = tmp_path / "docs" / "notes.md"
    other.write_text("# Pricing\nPhones cost little.\n", encoding="utf-8")
    index_documents([other], store, HashEmbedder())
    total = store.count()

    new_model = HashEmbedder(dimension=32)
    report = index_documents([doc], store, new_model)
    assert report.model_changed and report.embedded == total
    assert "embedded again" in report.summary()
    records = store.records()
    assert {r.metadata["document"] for r in records} == {"xiaomi.txt", "notes.md"}
    assert {len(r.embedding) for r in records} == {32}
    note = next(r for r in records if r.text == "Phones cost little." and r.metadata["kind"] == "sentence")
    expected = new_model.embed([embed_text("sentence", note.metadata["path"], note.text)])[0]
    assert np.allclose(note.embedding, expected)
    assert store.built_with() == new_model.identity
    assert index_documents([doc], store, HashEmbedder(dimension=32)).unchanged


def test_searching_an_index_built_by_another_model_says_to_reindex(doc, store, settings):
    from assistant.retriever import HybridSearch

    index_documents([doc], store, HashEmbedder())
    with pytest.raises(EmbedderMismatchError, match="hash-64.*hash-32.*assistant index"):
        HybridSearch(store, HashEmbedder(dimension=32), settings).catalog()
    assert HybridSearch(store, HashEmbedder(), settings).search("phone prices").hits


def test_another_file_of_an_indexed_name_replaces_it_and_the_summary_says_so(store, tmp_path):
    """Documents are cited by file name: a second notes.md replaces the first, never silently."""
    first, second = tmp_path / "a" / "notes.md", tmp_path / "b" / "notes.md"
    for path, body in [(first, "Alpha team budget is small."), (second, "Beta team budget is large.")]:
        path.parent.mkdir()
        path.write_text(f"# Budget\n{body}\n", encoding="utf-8")
    index_documents([first], store, HashEmbedder())
    report = index_documents([second], store, HashEmbedder())
    assert report.replaced == {"notes.md": str(first.resolve())}
    assert f"notes.md had been indexed from {first.resolve()}: this file replaces it." in report.summary()
    texts = {r.text for r in store.records(with_embeddings=False)}
    assert "Beta team budget is large." in texts and "Alpha team budget is small." not in texts
    again = index_documents([second], store, HashEmbedder())
    assert again.unchanged and not again.replaced


def test_the_same_file_named_twice_is_indexed_once(doc, store):
    report = index_documents([doc, doc], store, HashEmbedder())
    assert report.sections == 85 and store.count() == report.chunks


@pytest.mark.parametrize("bad_name, content", [
    ("binary.txt", b"\x00\x01\x02"), ("latin.txt", "Caf\xe9\n".encode("latin-1")), ("missing.txt", None),
    ("titles.md", b"# Title only\n\n## And a subheading\n"),
])
def test_failed_ingest_names_the_file_and_leaves_the_index_exactly_unchanged(doc, store, tmp_path,
                                                                             bad_name, content):
    index_documents([doc], store, HashEmbedder())
    before = snapshot(store)
    good = tmp_path / "docs" / "good.md"
    good.write_text("# Good\nFine text.\n", encoding="utf-8")
    bad = tmp_path / "docs" / bad_name
    if content is not None:
        bad.write_bytes(content)
    embedder = CountingEmbedder()
    with pytest.raises(DocumentError, match=bad_name):
        index_documents([good, bad], store, embedder)
    assert embedder.texts == []
    assert snapshot(store) == before


def test_a_crash_while_embedding_leaves_the_previous_generation_answering(doc, store, hash_embedder):
    index_documents([doc], store, hash_embedder)
    before = snapshot(store)
    edit_section(doc, "Company Background", "Rewritten background text.")
    with pytest.raises(RuntimeError, match="embedding crashed"):
        index_documents([doc], store, FailingEmbedder())
    assert snapshot(store) == before
    hits = store.query(hash_embedder.embed(["Xiaomi founded 2010 Lei Jun"])[0], "sentence", 3)
    assert hits and hits[0].id in before[1]


def test_a_crash_while_writing_leaves_the_previous_generation_answering(doc, store, hash_embedder,
                                                                        monkeypatch, settings):
    index_documents([doc], store, hash_embedder)
    before = snapshot(store)
    edit_section(doc, "Company Background", "Rewritten background text.")
    from chromadb.api.models.Collection import Collection

    real_add = Collection.add
    calls = {"n": 0}

    def flaky_add(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            real_add(self, *args, **kwargs)  # the first batch lands, then the writer dies
            raise OSError("disk full")
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(Collection, "add", flaky_add)
    monkeypatch.setattr("index.store._BATCH", 100)
    with pytest.raises(OSError, match="disk full"):
        index_documents([doc], store, hash_embedder)
    monkeypatch.undo()
    assert snapshot(store) == before
    # a fresh reader (another process) also still sees the complete previous index
    fresh = build_store(settings)
    assert snapshot(fresh) == before
    assert fresh.count() == len(before[1])
    # the next successful build publishes and cleans up the crashed half-build
    report = index_documents([doc], store, hash_embedder)
    assert store.active_generation() == report.generation != before[0]


def test_two_documents_with_the_same_text_are_refused_before_anything_is_written(doc, store, tmp_path):
    index_documents([doc], store, HashEmbedder())
    before = snapshot(store)
    first, second = tmp_path / "notes.md", tmp_path / "NOTES-copy.md"
    for path in (first, second):
        path.write_text("# Hours\nThe office opens at 9am.\n", encoding="utf-8")
    embedder = CountingEmbedder()
    with pytest.raises(DocumentError, match="NOTES-copy.md: the same text as .*notes.md; index one of them"):
        index_documents([first, second], store, embedder)
    assert embedder.texts == [] and snapshot(store) == before
