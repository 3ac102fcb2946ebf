"""The everyday-to-formal query lexicon: which words it adds, its file format, and what it changes."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from assistant.lexicon import BUNDLED_LEXICON, LexiconError, RegisterLexicon
from assistant.settings import Settings
from index.catalog import content_terms, stem


def test_everyday_words_add_the_formal_words_the_documents_use() -> None:
    lexicon = RegisterLexicon.load(BUNDLED_LEXICON)
    known = set(content_terms("Stores and retail outlets reward loyal customers with benefits."))
    added = lexicon.terms("Do the shops give regulars any perks?", known)
    assert {stem(w) for w in ("store", "retail", "reward", "benefit")} <= set(added)
    assert set(added) <= known  # only words the documents use
    # A word the documents use themselves is searched as it is, not expanded.
    assert lexicon.terms("Which stores does it run?", known | {"shop"}) == []


def test_everyday_slang_of_workplace_and_campus_finds_the_policy_words() -> None:
    lexicon = RegisterLexicon.load(BUNDLED_LEXICON)
    known = set(content_terms("Only assistance dogs are allowed. Day lockers store bags. After 5 failed sign-in "
                              "attempts the account is locked. Guests may stay overnight."))
    assert stem("dog") in lexicon.terms("can my spaniel come in with me", known)
    assert stem("attempt") in lexicon.terms("how many times can I try before it locks?", known)
    assert stem("overnight") in lexicon.terms("can my sister crash at mine?", known)


def test_a_phrasal_verb_is_found_with_its_object_between_verb_and_particle(tmp_path: Path) -> None:
    path = tmp_path / "register.tsv"
    path.write_text("puts together\tassembles, assembly\nset up\tconfigure\neat into\terode\n", encoding="utf-8")
    lexicon = RegisterLexicon.load(path)
    assert lexicon.matches("Who actually puts the phones together for them?") == ["puts together"]
    assert lexicon.matches("How do I set my new laptop up?") == ["set up"]
    assert lexicon.terms("Who puts them together?", set(content_terms("Partners assemble phones"))) == ["assembl"]
    # At most three words between, and only a particle that can stand apart ("eat into" cannot).
    assert lexicon.matches("Who puts the very first test phones together?") == []
    assert lexicon.matches("Does it eat profits into?") == []


def test_a_phrase_is_expanded_and_its_own_words_dropped_unless_the_documents_use_the_phrase(tmp_path: Path) -> None:
    """"go public" means "listing" even in documents that use "go" and "public"; its own words,
    searched one by one, would find "Go-to-Market" and "public cloud"."""
    path = tmp_path / "register.tsv"
    path.write_text("go public\tipo, listing\n", encoding="utf-8")
    lexicon = RegisterLexicon.load(path)
    known = set(content_terms("Go-to-Market plans run on the public cloud; the firm's listing came in 2018."))
    question = "When did Acme go public?"
    assert lexicon.terms(question, known, lambda phrase: False) == ["list"]
    assert lexicon.idiom_stems(question, known, lambda phrase: False) == {"go", "public"}
    # Documents that say "go public" themselves are searched with those words.
    assert lexicon.terms(question, known, lambda phrase: phrase == "go public") == []
    assert lexicon.idiom_stems(question, known, lambda phrase: phrase == "go public") == set()


def test_a_key_listed_twice_keeps_both_lines_equivalents(tmp_path: Path) -> None:
    path = tmp_path / "register.tsv"
    path.write_text("second-hand\tused, secondary market\nsecond hand\tused, pre-owned\n", encoding="utf-8")
    lexicon = RegisterLexicon.load(path)
    assert lexicon.entries["second hand"] == ("used", "secondary market", "pre-owned")


def test_a_lexicon_file_is_tab_separated_and_bad_lines_are_named(tmp_path: Path) -> None:
    good = tmp_path / "jargon.tsv"
    good.write_text("# our jargon\nbig box\tretail, store\n\nkit\tdevice\n", encoding="utf-8")
    lexicon = RegisterLexicon.load(good)
    known = [stem(w) for w in ("retail", "store", "device")]
    assert lexicon.terms("Which big-box shops sell the kit?", set(known)) == known
    bad = tmp_path / "bad.tsv"
    bad.write_text("kit\tdevice\nno tab on this line\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="line 2"):
        RegisterLexicon.load(bad)
    assert RegisterLexicon.load(None).terms("any perks?", {"benefit"}) == []


def test_the_lexicon_setting_can_be_switched_off_and_must_name_a_file(monkeypatch, tmp_path: Path) -> None:
    assert Settings().query_lexicon == BUNDLED_LEXICON
    monkeypatch.setenv("ASSISTANT_QUERY_LEXICON", "off")
    assert Settings().query_lexicon is None
    monkeypatch.setenv("ASSISTANT_QUERY_LEXICON", str(tmp_path / "missing.tsv"))
    with pytest.raises(ValidationError, match="query lexicon"):
        Settings()


def test_cli_reports_a_bad_lexicon_setting_with_exit_2(monkeypatch, tmp_path: Path, capsys) -> None:
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_QUERY_LEXICON", str(tmp_path / "missing.tsv"))
    assert main(["ask", "What is HyperOS?"]) == 2
    assert "ASSISTANT_QUERY_LEXICON" in capsys.readouterr().err


@pytest.mark.integration
@pytest.mark.parametrize(("question", "section"), [
    ("Do loyal shoppers get any perks?", "Loyalty, Rewards, and Membership"),
    ("What can a shopper do when they walk into one of the physical shops?", "Mi Home and Authorized Retail"),
])
def test_an_everyday_question_finds_the_section_written_in_report_words(real_assistant, question, section) -> None:
    from assistant.retriever import Weights

    search = real_assistant.search
    assert search.search(question).hits[0].section.title == section
    saved = search.weights
    search.weights = replace(Weights(), expansion=0.0)
    try:
        assert search.search(question).hits[0].section.title != section  # what the lexicon changes
    finally:
        search.weights = saved
