"""Unit tests of the question's validation and the whole-document requests (assistant/service.py)."""

from __future__ import annotations

import pytest

from assistant.service import OVERVIEW, QuestionError, clean_question


@pytest.mark.parametrize("pasted", [
    "- Who founded Xiaomi?", "* Who founded Xiaomi?", "> Who founded Xiaomi?", "_ Who founded Xiaomi?",
    "Q: Who founded Xiaomi?", "Question 3: Who founded Xiaomi?", "** _ Who founded Xiaomi?", "1. Who founded Xiaomi?",
    "b) Who founded Xiaomi?", '"Who founded Xiaomi?"', "“Who founded Xiaomi?”", "• Who founded Xiaomi?",
])
def test_list_and_quote_marks_around_a_pasted_question_are_dropped(pasted) -> None:
    assert clean_question(pasted, 2000) == "Who founded Xiaomi?"


@pytest.mark.parametrize("question", ["What is 5G?", "4G or 5G?", 'Who is "Lei Jun"?', "Xiaomi's model?", "-", '""'])
def test_a_question_without_lead_in_marks_is_kept_as_typed(question) -> None:
    assert clean_question(question, 2000) == question


@pytest.mark.parametrize(("bad", "message"), [
    ("", "empty"), ("   ", "empty"), (42, "string"), ("x" * 2001, "too long"),
])
def test_a_bad_question_is_a_clear_error(bad, message) -> None:
    with pytest.raises(QuestionError, match=message):
        clean_question(bad, 2000)


@pytest.mark.parametrize("request_", [
    "Summarize the report.", "Summarize the report in one sentence.", "Give me a one-sentence summary of the report.",
    "Summarise this document briefly", "Can you give me a short summary of the report, in 3 bullet points?",
    "What is this document about?", "tl;dr", "Give me an overview", "What is in the documents?",
    "What’s in the report?",
])
def test_requests_for_the_whole_document_are_overviews(request_) -> None:
    assert OVERVIEW.search(request_)


@pytest.mark.parametrize("question", ["Summarize the risks.", "Summarize Xiaomi's revenue model in one sentence.",
                                      "What is the revenue model about?"])
def test_summarising_one_part_is_no_overview(question) -> None:
    assert not OVERVIEW.search(question)
