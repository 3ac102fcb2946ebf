"""Unit tests of the slips of typing mended before a question is searched (assistant/spelling.py)."""

from __future__ import annotations

from assistant.spelling import Speller, one_slip
from index.catalog import Catalog
from index.chunking import chunk_sections
from index.embeddings import HashEmbedder
from index.pipeline import chunk_metadata
from index.sections import Document, split_sections
from index.store import Record

DOC = """Company Background
The company was founded in 1999. Its strategy relies on trainees, blastco kits and authorized retail partners.
Revenue
Money comes from advertising and subscriptions.
"""


def catalog(generation: str = "g1", text: str = DOC) -> Catalog:
    doc = Document("acme.txt", text, markdown=False)
    emb = HashEmbedder()
    chunks = chunk_sections(split_sections(doc), doc.text, emb.count_tokens, 200)
    vectors = emb.embed([c.embed_text for c in chunks])
    return Catalog([Record(c.id, c.text, chunk_metadata(c), v) for c, v in zip(chunks, vectors, strict=True)],
                   generation)


def test_a_slip_in_a_question_word_or_a_document_word_is_mended() -> None:
    speller = Speller()
    assert speller.mend("Wich partners does the comapny use?", catalog()) == "Which partners does the company use?"
    assert speller.mend("whta is their stratgey? How do they make monye from advertisng?", catalog()) == \
        "what is their strategy? How do they make money from advertising?"
    assert speller.mend("Whne was it foudned?", catalog()) == "When was it founded?"


def test_real_words_short_words_and_everyday_words_are_left_as_typed() -> None:
    """"trainers" is an English word one slip from the documents' "trainees": the asker meant it.
    Words under four letters and the lexicon's everyday words are never changed."""
    speller = Speller(extra_known={"subscripsion"})
    for question in ("Can I wear trainers?", "Is the firm sued often?", "Do they sell via subscripsion?",
                     "What does Hwo mean?"):
        assert speller.mend(question, catalog()) == question


def test_a_four_letter_slip_is_mended_only_to_a_document_word() -> None:
    """"poko" is one slip from the documents' "POCO"; "hone" is an English word and "vlog" is near
    no document word: both stay, as the English word list is too close around four letters."""
    text = "Brands\nThe POCO line targets young buyers. The Home app links devices.\n"
    speller = Speller()
    assert speller.mend("What is poko for?", catalog("g4", text)) == "What is poco for?"
    assert speller.mend("Is the homw app good?", catalog("g4", text)) == "Is the home app good?"
    for question in ("How do they hone it?", "Do they vlog?"):
        assert speller.mend(question, catalog("g4", text)) == question


def test_contractions_and_abbreviations_are_no_slips() -> None:
    """"Aren't" is not "Area't" beside a document's "area", "dont" is not "done" (the negation
    turned round), and "dept" is not "depth": an added letter in a four-letter word is taken for
    an abbreviation."""
    text = "Facilities\nThe gym area is done by noon. Supply depth matters. Doesn't apply.\n"
    for question in ("Aren't members allowed?", "what if i dont get paid?", "Which dept handles it?",
                     "Doesnt the area close?"):
        assert Speller().mend(question, catalog("g5", text)) == question


def test_a_british_spelling_meets_the_documents_american_one() -> None:
    assert Speller().mend("Who are the authorised partners?", catalog()) == "Who are the authorized partners?"


def test_the_vocabulary_follows_a_reindex() -> None:
    speller = Speller()
    assert speller.mend("the blastcoo kits", catalog("g1")) == "the blastco kits"
    assert speller.mend("the blastcoo kits", catalog("g2", "Plans\nThe roadmap is short.\n")) == "the blastcoo kits"


def test_a_slip_of_an_everyday_word_takes_its_most_frequent_neighbour() -> None:
    """"peopple" is no word of the documents: the English word list mends it. A capitalised word
    inside a sentence may be a name the documents do not use ("Realme"): it is left alone."""
    speller = Speller()
    assert speller.mend("Do peopple like it?", catalog()) == "Do people like it?"
    assert speller.mend("Peopple like it?", catalog()) == "People like it?"
    assert speller.mend("Who owns Realme?", catalog()) == "Who owns Realme?"
    # British spellings are words, though the American word list lacks them.
    assert speller.mend("What is their market capitalisation? Any favourite colour?", catalog()) == \
        "What is their market capitalisation? Any favourite colour?"


def test_a_slip_near_two_words_takes_the_far_more_frequent_one() -> None:
    text = "Customers\nCustomers buy. Customers return. Customers pay. Customs checks apply.\n"
    assert Speller().mend("Do customrs pay?", catalog("g3", text)) == "Do customers pay?"


def test_one_slip() -> None:
    assert one_slip("comapny", "company") and one_slip("suppliers", "supliers") and one_slip("moeny", "money")
    assert not one_slip("company", "compnay s") and not one_slip("abc", "abcde") and not one_slip("price", "prize1")


def test_a_compound_is_written_as_the_documents_write_it() -> None:
    """"email" meets the documents' "e-mail" and "wi-fi" their "wifi" (keyword search splits a
    hyphenated word in two); a compound the documents write both ways, or not at all, stays."""
    doc = ("Contacts\nSend an e-mail to the desk. Guest wifi is free. Full-time staff and full time staff.\n"
           "Use a co-working space.\n")
    speller = Speller()
    assert speller.mend("Email the desk?", catalog(text=doc)) == "E-mail the desk?"
    assert speller.mend("Is there free wi-fi?", catalog(text=doc)) == "Is there free wifi?"
    for question in ("Do full-time staff get it?", "Is it a coworking space or a co-working one?", "Any on-site gym?"):
        assert speller.mend(question, catalog(text=doc)) == question.replace("coworking", "co-working")
    # An everyday compound too ("online" where the documents write "on-line").
    doc2 = "Access\nLog in on-line with your log-in name.\n"
    assert speller.mend("Can I login online?", catalog("g3", text=doc2)) == "Can I log-in on-line?"
    # Two words, not two spellings of one: "resign" is no "re-sign".
    doc = "Leaving\nYou must re-sign the policy each year. Notice of resignation is one month.\n"
    assert speller.mend("How much notice do I give to resign?", catalog("g4", text=doc)) == \
        "How much notice do I give to resign?"
