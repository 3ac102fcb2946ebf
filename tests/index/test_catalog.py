from __future__ import annotations

from index.catalog import Catalog, content_terms, stem, words


def test_every_form_of_a_word_meets_at_one_stem() -> None:
    """BM25 and the evidence check match a question's "manages" with the text's "managed"."""
    for forms in (("manage", "manages", "managed", "managing"), ("price", "prices", "priced", "pricing"),
                  ("get", "gets", "getting"), ("plan", "plans", "planned", "planning"),
                  ("partner", "partners", "partnership", "partnering")):
        assert len({stem(w) for w in forms}) == 1, forms


def test_stems_keep_words_apart_that_differ() -> None:
    """Only a short stem loses a doubled letter ("gett"), and "ee" stays: "install" is not "instal",
    "fee" is not "fe", "free" is not "fre"."""
    assert stem("installed") == stem("installs") == "install"
    assert len({stem("fee"), stem("free"), stem("fees")}) == 2
    assert content_terms("Staff fees are managed") == ["staff", "fee", "manag"]


def test_a_straight_and_a_curly_apostrophe_give_the_same_words() -> None:
    """A question typed with "'" meets a document written with "’" (and the other way round):
    "company's" is "company", and "what's" or "don't" add no word of their own."""
    assert content_terms("What's the company's plan? Don't the users' stores close?") == \
        content_terms("What’s the company’s plan? Don’t the users’ stores close?") == \
        ["company", "plan", "user", "stor", "clos"]
    assert words("can't o'clock R&D") == ["can", "not", "o'clock", "r&d"]
    assert words("It doesn't work") == words("It does not work") == ["it", "does", "not", "work"]


def test_a_list_item_or_table_row_hangs_from_the_sentence_before_the_list() -> None:
    from index.chunking import chunk_sections
    from index.embeddings import HashEmbedder
    from index.pipeline import chunk_metadata
    from index.sections import Document, split_sections
    from index.store import Record

    text = ("# Rates\n\nMileage is paid at these rates:\n\n- 45p per mile\n- 25p per mile after that\n\n"
            "| Cost | Approver |\n|---|---|\n| Up to £1,500 | Line manager |\n\nClaims close after 30 days.\n")
    doc = Document("rates.md", text, markdown=True)
    emb = HashEmbedder()
    chunks = chunk_sections(split_sections(doc), doc.text, emb.count_tokens, 200)
    catalog = Catalog([Record(c.id, c.text, chunk_metadata(c), v)
                       for c, v in zip(chunks, emb.embed([c.embed_text for c in chunks]), strict=True)], "g")
    index = {s.text: i for i, s in enumerate(catalog.sentences)}
    lead = index["Mileage is paid at these rates:"]
    assert catalog.lead_in(index["- 25p per mile after that"]) == lead
    assert catalog.lead_in(index["| Up to £1,500 | Line manager |"]) == lead
    assert catalog.lead_in(index["Claims close after 30 days."]) is None
