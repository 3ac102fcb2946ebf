from __future__ import annotations

from index.catalog import content_terms, stem, words


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
