"""Sections -> chunks: verbatim slices inside one section, windows within MiniLM's input, stable ids."""

from __future__ import annotations

import pytest

from assistant.settings import BUNDLED_DOCUMENT
from index.chunking import approx_tokens, chunk_section, chunk_sections, sentence_spans
from index.sections import Document, Section, load_document, split_sections

MINILM_MAX = 256


@pytest.fixture(scope="module")
def bundled() -> tuple[Document, list[Section]]:
    doc = load_document(BUNDLED_DOCUMENT)
    return doc, split_sections(doc)


def long_document(words: int = 2000) -> tuple[Document, list[Section]]:
    """A plain-text document with one short section and one section of about ``words`` words."""
    topics = ["pricing", "retail", "software", "supply", "community", "design", "services", "logistics"]
    sentences, n = [], 0
    while n < words:
        i = len(sentences)
        s = (f"Sentence {i} explains how {topics[i % len(topics)]} shapes margin number {i} "
             f"across markets and channels for the company over several years.")
        sentences.append(s)
        n += len(s.split())
    text = "Short\nA short section.\nLong Part\n" + " ".join(sentences) + "\n"
    doc = Document("long.txt", text, markdown=False)
    return doc, split_sections(doc)


def windows(chunks):
    return [c for c in chunks if c.kind == "window"]


def test_every_chunk_is_a_verbatim_slice_inside_its_section(bundled):
    doc, sections = bundled
    chunks = chunk_sections(sections, doc.text)
    by_id = {s.id: s for s in sections}
    assert {c.section_id for c in chunks} == set(by_id)
    for c in chunks:
        s = by_id[c.section_id]
        assert c.text == doc.text[c.start : c.end]
        assert s.start <= c.start <= c.end <= s.end, f"{c.kind} chunk crosses out of {s.title!r}"
        assert c.path == s.path and c.title == s.title and c.document == doc.name


def test_each_section_has_a_title_record_sentences_and_windows(bundled):
    doc, sections = bundled
    chunks = chunk_sections(sections, doc.text)
    for s in sections:
        mine = [c for c in chunks if c.section_id == s.id]
        kinds = [c.kind for c in mine]
        assert kinds.count("title") == 1 and "window" in kinds and "sentence" in kinds
        title = next(c for c in mine if c.kind == "title")
        assert title.text == s.text and title.embed_text == " > ".join(s.path)
        # the sentences, in order, cover the section's words
        sents = [c.text for c in mine if c.kind == "sentence"]
        assert " ".join(sents).split() == s.text.split()


def test_sentence_split_respects_abbreviations():
    text = "Xiaomi sells phones, e.g. Redmi models. It also sells TVs! Does it? Yes."
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ["Xiaomi sells phones, e.g. Redmi models.", "It also sells TVs!", "Does it?", "Yes."]


@pytest.mark.integration
@pytest.mark.parametrize("max_tokens", [200, MINILM_MAX])
def test_windows_with_heading_prefix_fit_minilm_input(bundled, real_embedder, max_tokens):
    doc, sections = bundled
    count = real_embedder.count_tokens
    chunks = chunk_sections(sections, doc.text, count, max_tokens)
    for c in chunks:
        if c.kind in ("window", "sentence"):
            assert count(c.embed_text) <= MINILM_MAX, (c.path, count(c.embed_text))
            assert count(c.embed_text) <= max_tokens


def test_long_section_is_split_into_overlapping_sentence_windows():
    doc, sections = long_document(2000)
    long = sections[-1]
    assert len(long.text.split()) >= 2000
    chunks = chunk_section(long, doc.text, approx_tokens, 200)
    wins = windows(chunks)
    sentences = [(c.start, c.end) for c in chunks if c.kind == "sentence"]
    assert len(wins) >= 10
    prefix = " > ".join(long.path) + ": "
    for w in wins:
        assert approx_tokens(prefix) + approx_tokens(w.text) <= 200 + 2
        assert (w.start, w.end) != (long.start, long.end)
    for a, b in zip(wins, wins[1:], strict=False):
        assert a.start < b.start < a.end < b.end, "consecutive windows must overlap and move forward"
        shared = [(s, e) for s, e in sentences if b.start <= s and e <= a.end]
        assert shared, "consecutive windows share at least one whole sentence"
    assert wins[0].start == long.start and wins[-1].end == long.end
    # every sentence is inside some window
    assert all(any(w.start <= s and e <= w.end for w in wins) for s, e in sentences)


def test_long_section_never_spills_into_the_next_section():
    doc, sections = long_document(2000)
    text = doc.text.replace("Long Part\n", "Long Part\n", 1) + "Tail\nThe end.\n"
    doc = Document("long.txt", text, markdown=False)
    sections = split_sections(doc)
    for c in chunk_sections(sections, doc.text):
        s = next(s for s in sections if s.id == c.section_id)
        assert s.start <= c.start and c.end <= s.end


def test_an_over_long_single_sentence_is_hard_split_within_budget():
    sentence = " ".join(f"word{i}" for i in range(900)) + "."
    doc = Document("run.txt", "Runaway\n" + sentence + "\n", markdown=False)
    (section,) = split_sections(doc)
    chunks = chunk_section(section, doc.text, approx_tokens, 100)
    pieces = [c for c in chunks if c.kind == "sentence"]
    assert len(pieces) > 5
    budget = 100 - approx_tokens("Runaway: ")
    for c in pieces + windows(chunks):
        assert approx_tokens(c.text) <= budget
        assert c.text == doc.text[c.start : c.end]
    assert " ".join(c.text for c in pieces) == sentence


@pytest.mark.integration
def test_one_giant_word_is_split_within_the_real_tokenizer_budget(real_embedder):
    blob = ",".join(f"q{i}" for i in range(800))  # no spaces, yet thousands of word pieces
    doc = Document("blob.txt", "Blob\nStart here. " + blob + " and end.\n", markdown=False)
    (section,) = split_sections(doc)
    count = real_embedder.count_tokens
    chunks = chunk_section(section, doc.text, count, 200)
    for c in chunks:
        assert c.text == doc.text[c.start : c.end]
        if c.kind != "title":
            assert count(c.embed_text) <= 200, (c.kind, count(c.embed_text))
    assert "".join(c.text for c in chunks if c.kind == "sentence").replace(" ", "") == \
        section.text.replace(" ", "")


def test_chunk_ids_are_stable_and_change_only_for_changed_text(bundled):
    doc, sections = bundled
    before = chunk_sections(sections, doc.text)
    assert [c.id for c in before] == [c.id for c in chunk_sections(split_sections(doc), doc.text)]
    assert len({c.id for c in before}) == len(before)

    target = next(s for s in sections if s.title == "Premium Users and Creators")
    first_sentence_end = target.text.index(".") + 1
    new_text = (doc.text[: target.start] + "Premium buyers want cameras."
                + doc.text[target.start + first_sentence_end :])
    edited = Document(doc.name, new_text, markdown=False)
    after = chunk_sections(split_sections(edited), edited.text)
    changed = {c.id for c in after} - {c.id for c in before}
    gone = {c.id for c in before} - {c.id for c in after}
    changed_chunks = [c for c in after if c.id in changed]
    assert changed_chunks and all(c.section_id == target.id for c in changed_chunks)
    assert all(c.section_id == target.id for c in before if c.id in gone)
    # the untouched sentences of the edited section keep their ids
    old_sents = {c.text: c.id for c in before if c.kind == "sentence" and c.section_id == target.id}
    new_sents = {c.text: c.id for c in after if c.kind == "sentence" and c.section_id == target.id}
    kept = set(old_sents) & set(new_sents)
    assert kept and all(old_sents[t] == new_sents[t] for t in kept)
    assert "Premium buyers want cameras." in new_sents


def test_window_ids_follow_text_not_position():
    doc, sections = long_document(2000)
    long = sections[-1]
    before = windows(chunk_section(long, doc.text, approx_tokens, 200))
    # one tiny sentence added at the start still fits the first window; later windows keep their text
    text = doc.text.replace("Long Part\n", "Long Part\nHi. ", 1)
    edited = Document(doc.name, text, markdown=False)
    after = windows(chunk_section(split_sections(edited)[-1], edited.text, approx_tokens, 200))
    same_text = {w.text for w in before} & {w.text for w in after}
    assert same_text
    old_ids = {w.text: w.id for w in before}
    assert all(old_ids[w.text] == w.id for w in after if w.text in same_text)


def test_a_plural_acronym_ends_a_sentence_but_an_abbreviation_does_not() -> None:
    text = "Acme works with ODMs. It also uses EMS partners, e.g. Foxconn. Done."
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "Acme works with ODMs.", "It also uses EMS partners, e.g. Foxconn.", "Done."]


def test_a_numbered_step_keeps_its_number() -> None:
    """"1. Create a meeting." is one sentence, not "1." and "Create a meeting." ("4." alone was
    an answer sentence); a sentence that ends in a short word still ends ("on the go.")."""
    text = ("To book a room:\n\n1. Create a new meeting.\n2. Open Room Finder. It is fast.\nb) Then send it.\n"
            "On the go. Next.")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "To book a room:", "1. Create a new meeting.", "2. Open Room Finder.", "It is fast.", "b) Then send it.",
        "On the go.", "Next."]


def test_no_ends_a_sentence_unless_a_number_follows() -> None:
    text = ("A: No. Ask the service desk. Use form No. 5 for that. Use Form No. HR-12 to claim. No. Not today. "
            "No. 10 Downing Street is the venue.\n- No. Ask the desk.\nQ1. Can I buy leave?")
    assert [text[s:e] for s, e in sentence_spans(text)] == [
        "A: No.", "Ask the service desk.", "Use form No. 5 for that.", "Use Form No. HR-12 to claim.", "No.",
        "Not today.", "No. 10 Downing Street is the venue.", "- No.", "Ask the desk.", "Q1. Can I buy leave?"]
