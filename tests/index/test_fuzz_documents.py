"""Fuzzed documents: a clear DocumentError naming the file, or sensible sections; never a half index.

Sections must be verbatim slices of the document (citations quote them), and a bad document
among good ones leaves the live index exactly as it was.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.sections import Document, DocumentError, load_document, split_sections

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def write(folder: Path, name: str, data: bytes | str) -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
    return path


def check_sections(path: Path) -> list:
    """Load and split; every section is a verbatim, ordered, non-overlapping slice of the text."""
    doc = load_document(path)
    sections = split_sections(doc)
    assert sections, "a non-empty document has at least one section"
    previous_end = 0
    for s in sections:
        assert doc.text[s.start : s.end] == s.text
        assert s.start >= previous_end and s.title and s.path[-1] == s.title
        previous_end = s.end
    assert len({s.id for s in sections}) == len(sections), "section ids must be unique"
    return sections


@FUZZ
@given(data=st.one_of(st.binary(max_size=2000),
                      st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass"))),
       suffix=st.sampled_from([".txt", ".md"]))
def test_any_bytes_give_sections_or_a_document_error_naming_the_file(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "fuzzed" + suffix, data)
        try:
            check_sections(path)
        except DocumentError as exc:
            assert "fuzzed" + suffix in str(exc)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(["#", "##", "###", "", "1.", "2.1"]),
                          st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),
                          st.text(st.characters(codec="utf-8"), max_size=300)), min_size=1, max_size=12),
       st.sampled_from([".txt", ".md"]))
def test_generated_outlines_split_into_verbatim_sections(parts, suffix: str) -> None:
    text = "\n\n".join(f"{mark} {title}\n{body}".strip() for mark, title, body in parts)
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "outline" + suffix, text)
        try:
            check_sections(path)
        except DocumentError as exc:
            assert "outline" + suffix in str(exc) and ("empty" in str(exc) or "NUL" in str(exc))


@pytest.mark.parametrize(("name", "data", "message"), [
    ("empty.txt", b"", "empty"),
    ("blank.md", b"  \n\t\n ", "empty"),
    ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    ("latin1.txt", "Café résumé\n".encode("latin-1"), "UTF-8"),
    ("report.pdf", b"%PDF-1.7", "unsupported file type"),
])
def test_unreadable_documents_are_refused_with_the_file_named(tmp_path: Path, name: str, data: bytes,
                                                              message: str) -> None:
    with pytest.raises(DocumentError, match=message) as err:
        load_document(write(tmp_path, name, data))
    assert name in str(err.value)


def test_only_headings_no_headings_and_duplicate_headings(tmp_path: Path) -> None:
    only = check_sections(write(tmp_path, "only.md", "# One\n## Two\n# Three\n"))
    assert [s.title for s in only] == ["One", "Two", "Three"] and all(s.text == "" for s in only)
    plain = check_sections(write(tmp_path, "plain.txt", "just some words. and more words.\n" * 20))
    assert [s.title for s in plain] == ["Introduction"] and "more words" in plain[0].text
    dup = check_sections(write(tmp_path, "dup.md", "# Risks\nfirst body\n# Risks\nsecond body\n"))
    assert [s.title for s in dup] == ["Risks", "Risks"]
    assert [s.text for s in dup] == ["first body", "second body"] and dup[0].id != dup[1].id


def test_a_ten_megabyte_document_splits_in_bounded_time(tmp_path: Path) -> None:
    block = "".join(f"Heading number {i}\nA sentence about part {i} of the report. Another one follows.\n\n"
                    for i in range(200))
    path = write(tmp_path, "big.txt", block * (10_000_000 // len(block) + 1))
    assert path.stat().st_size >= 10_000_000
    with pytest.raises(DocumentError, match="over the 5 MB a document may have"):  # indexing refuses it
        load_document(path)
    # ... but the splitter itself stays fast on such a text.
    t0 = time.perf_counter()
    sections = split_sections(Document(name="big.txt", text=path.read_text(encoding="utf-8"), markdown=False))
    assert time.perf_counter() - t0 < 60
    assert len(sections) > 10_000 and sections[0].title == "Heading number 0"


@pytest.mark.integration  # a real (embedded) Chroma
def test_a_bad_document_among_good_ones_leaves_the_index_unchanged(tmp_path: Path, settings,
                                                                   hash_embedder) -> None:
    from index.pipeline import index_documents
    from index.store import build_store

    store = build_store(settings)
    good = write(tmp_path, "good.md", "# Pricing\nXiaomi keeps hardware margins low.\n")
    index_documents([good], store, hash_embedder)
    generation, records = store.active_generation(), store.records(with_embeddings=False)
    collections = names(store)
    bad_files = (("empty.md", b""), ("bin.txt", os.urandom(64) + b"\x00"), ("bad.txt", b"\xff\xfe\xfa"))
    for name, data in bad_files:
        changed = write(tmp_path, "good.md", "# Pricing\nChanged text that must not be indexed.\n")
        with pytest.raises(DocumentError, match=name):
            index_documents([changed, write(tmp_path, name, data)], store, hash_embedder)
        write(tmp_path, "good.md", "# Pricing\nXiaomi keeps hardware margins low.\n")
        assert store.active_generation() == generation
        assert [r.text for r in store.records(with_embeddings=False)] == [r.text for r in records]
        assert names(store) == collections


def names(store) -> list[str]:
    return sorted(c if isinstance(c, str) else c.name for c in store.client.list_collections())
