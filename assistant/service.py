"""The one entry object the front ends share: question (+ history) -> cited answer.

Usage::

    assistant = build_assistant(Settings())
    answer = assistant.ask("In what year was Xiaomi founded?")
    for event in assistant.stream("And by whom?", history):
        ...  # ("token", text) events, then ("answer", Answer)

The CLI, the HTTP API and the UI call only this object. Internally it is a LangChain (LCEL)
chain: rewrite follow-up -> retrieve sections (a LangChain retriever over Chroma + BM25) ->
decide (answer or abstain, before any LLM is called) -> answer (extractive or LLM).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Protocol

import numpy as np
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough

from assistant.abstain import (
    ASKS,
    CAPITALISED,
    DATE,
    GREETING,
    INJECTION,
    NUMERIC,
    Abstainer,
    ChitChat,
    asks_their_contact,
    contact_of,
    other_language,
    person_names,
)
from assistant.answer import Candidate, ExtractiveAnswerer
from assistant.models import Answer, Turn
from assistant.prompts import load_text
from assistant.retriever import HybridSearch, SearchResult, SectionRetriever
from assistant.rewrite import LLMQueryRewriter, QueryRewriter, drop_aside, may_repeat
from assistant.settings import Settings
from assistant.spelling import Speller, one_slip
from index.catalog import Catalog, content_terms

StreamEvent = tuple[str, Any]  # ("token", str) | ("answer", Answer)
MAX_HISTORY_TURNS = 1000
# The turns a follow-up is read with: the rewrite reads the last two questions and the last answer,
# leaving out what was said the last two answers, the LLM condenser the last four turns.
RECENT_TURNS = 8
_BRIEF = r"(?:short|brief|quick|one[- ]sentence|one[- ]line|one[- ]paragraph|high[- ]level|executive)\s+"
_BRIEFLY = (r"(?:\s*,?\s*(?:in (?:one|a|two|three|\d+|a few) (?:short )?(?:sentences?|words|lines?|paragraphs?|bullet"
            r"(?: point)?s?)|briefly|quickly|for me))*")
OVERVIEW = re.compile(  # a request about the whole document, not one of its parts
    rf"^\W*(?:please\s+)?(?:can you\s+|could you\s+)?(?:briefly\s+)?(?:summari[sz]e|sum up|give me (?:a |an )?"
    rf"(?:{_BRIEF})?(?:summary|overview|gist)(?: of)?|(?:a |an )?(?:{_BRIEF})?(?:summary|overview|gist|tl;?dr)(?: of)?)"
    rf"{_BRIEFLY}\s*(?:(?:this|the|it|that)\s*(?:whole\s+)?(?:document|report|text|file|paper)?)?{_BRIEFLY}"
    r"\s*(?:please)?\W*$"
    r"|\bwhat(?:['’]s| is| are)\s+(?:this|the)\s+(?:document|report|text|file|paper)s?\s+(?:about|on)\b"
    r"|\bwhat(?:['’]s| is)\s+in\s+(?:this|the)\s+(?:document|report|text|file|paper)s?\W*$"
    r"|\b(?:main|key)\s+(?:points|takeaways|ideas|message)\s+of\s+(?:this|the)\s+(?:document|report|text)\b",
    re.I,
)
SAID_SHARE = 0.6  # a sentence most of whose words an earlier answer used was given by it
FOLLOW_UP_OWN_WEIGHT = 0.5  # a follow-up's own words next to its expanded query (tuned on follow-ups)
PART_SENTENCES = 5  # an answer about a whole part: its opening and up to four subsections' openings
# A rule for what a list or table leaves out: "For other UK cities use ...", "any city not listed"
# (not "Staff may not claim any other meals", nor "set out elsewhere").
FOR_THE_REST = re.compile(r"\b\w+\s+not\s+(?:listed|named)\b|\bunlisted\b"
                          r"|^(?:[-*•]\s+)?for\s+(?:any|all|every)?\s*other\b", re.I)
FACT_TRIES = 6  # other sentences of the top section tried for a fact the chosen ones lack


class QuestionError(ValueError):
    """The question or history is malformed; the message says how (exit 2 / HTTP 4xx)."""


class Answerer(Protocol):
    """A generative answerer: streams tokens, then ("answer", Answer) with validated citations.

    ``fallback`` returns the extractive answer for the same decision.
    """

    name: str

    def stream(self, decision: Decision, fallback: Callable[[], Answer]) -> Iterator[StreamEvent]: ...


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200d\u2060\ufeff]")  # + zero-width


# What a question pasted from a list, an email or an FAQ carries before it: "- ", "* ", "> ",
# "1. ", "Q: ", "**", opening quote marks.
_LEAD_IN = re.compile(r"^(?:[-*•·>_#~=+]+\s*|\d{1,3}[.)]\s+|\(?[a-z]\)\s+|(?:q|question)\s*\d{0,3}\s*[:.)-]\s+"
                      r"|[\"“”‘'`«]+)+", re.I)
_TRAIL = re.compile(r"[\"“”’'`»*_~]+\s*$")


def clean_question(question: object, max_chars: int) -> str:
    """Validate a question: a non-empty string of at most ``max_chars`` characters. List marks
    and quote marks around it are dropped ("- Who founded it?", "Q: ...", "“...”")."""
    if not isinstance(question, str):
        raise QuestionError("The question must be a string.")
    text = _CONTROL.sub(" ", question.encode("utf-8", "replace").decode("utf-8")).strip()
    text = _TRAIL.sub("", _LEAD_IN.sub("", text)).strip() or text
    if not text:
        raise QuestionError("The question is empty: ask something about the document.")
    if len(question) > max_chars:
        raise QuestionError(f"The question is too long ({len(question)} characters; at most {max_chars}).")
    return text


REQUEST_FIELDS = ("question", "history")


def misspelt_field(item: Mapping[Any, object], known: tuple[str, ...] = REQUEST_FIELDS) -> str | None:
    """The error for a field whose name is a slip of a known one ("histroy", "Question": one
    letter added, dropped, changed or two swapped): it would be ignored, and the conversation
    dropped without a word. Other unknown fields ("question_id", "session") are left alone, so
    that clients sending extra fields keep working."""
    for key in item:
        if isinstance(key, str) and key not in known:
            near = next((k for k in known if one_slip(key.lower(), k)), None)  # the same word too
            if near and near not in item:  # with the field itself there, nothing is dropped
                return f"Unknown field {key!r}: did you mean {near!r}?"
    return None


def parse_history(raw: object) -> list[Turn]:
    """Validate history: a list of {"role": "user"|"assistant", "content": str}."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise QuestionError("history must be a list of {role, content} objects.")
    if len(raw) > MAX_HISTORY_TURNS:
        raise QuestionError(f"history is too long ({len(raw)} turns; at most {MAX_HISTORY_TURNS}).")
    turns = []
    for i, item in enumerate(raw):
        if isinstance(item, Turn):
            turns.append(item)
            continue
        if not isinstance(item, Mapping):
            raise QuestionError(f"history[{i}] must be an object with role and content.")
        role, content = item.get("role"), item.get("content")
        if role not in ("user", "assistant"):
            raise QuestionError(f"history[{i}].role must be 'user' or 'assistant'.")
        if not isinstance(content, str):
            raise QuestionError(f"history[{i}].content must be a string.")
        turns.append(Turn(role, content.encode("utf-8", "replace").decode("utf-8")))
    return turns


@dataclass
class Decision:
    question: str
    history: list[Turn]
    query: str
    result: SearchResult
    catalog: Catalog
    chosen: list[Candidate]
    reason: str | None
    not_answered: list[str] = field(default_factory=list)  # parts of a two-part question the documents do not answer


class Assistant:
    """Answers questions about the indexed documents, with cited sections."""

    def __init__(self, settings: Settings, search: HybridSearch, answerer: Answerer | None = None,
                 rewriter: QueryRewriter | LLMQueryRewriter | None = None, abstainer: Abstainer | None = None) -> None:
        self.settings = settings
        self.search = search
        self.extractive = ExtractiveAnswerer(settings)
        self.answerer: Answerer | ExtractiveAnswerer = answerer or self.extractive
        self.rewriter = rewriter or QueryRewriter()
        self.abstainer = abstainer or Abstainer(
            settings, lexicon=search.lexicon, chit_chat=ChitChat(search.embedder, cache_dir=settings.data_dir))
        self.retriever = SectionRetriever(search=search, k=settings.top_k)
        self.speller = Speller(extra_known=search.lexicon.words())
        self.decide_chain = self._build_decide_chain()
        self._lock = threading.Lock()
        # The assistant's own refusals (prompts/abstain.txt, off_topic.txt, refuse.txt, ...), as a client
        # sends them back in the history, whatever documents they named.
        self._refusal = re.compile("|".join(
            ".*?".join(re.escape(part) for part in load_text(name).strip().split("{documents}"))
            for name in ("abstain", "off_topic", "refuse", "greeting", "other_language")), re.S)

    # --- the chain -------------------------------------------------------------
    def _build_decide_chain(self) -> Runnable:
        rewrite: Runnable = RunnableLambda(lambda x: self.rewriter.rewrite(x["question"], x["history"]))
        return (
            RunnablePassthrough.assign(query=rewrite)
            | RunnablePassthrough.assign(documents=itemgetter("query") | self.retriever)
            | RunnableLambda(self._decide)
        )

    def _decide(self, x: dict[str, Any]) -> Decision:
        docs = x["documents"]
        result: SearchResult = docs[0].metadata["result"] if docs else self.search.search(x["query"])
        catalog = self.search.catalog()
        if result.generation is not None and result.generation != catalog.generation:
            # A re-index went live during this request: search again, so that the sections and
            # sentences come from one build.
            result = self.search.search(x["query"])
            catalog = self.search.catalog()
        if OVERVIEW.search(x["question"]) and not INJECTION.search(x["question"]):
            # "What is this document about?": the opening and closing sections, not a search.
            result = self.search.overview()
            chosen = self.extractive.select(x["query"], result, catalog) if result.hits else []
            reason = None if chosen else "not_in_document"
            return Decision(x["question"], x["history"], x["query"], result, catalog, chosen, reason)
        follow_up = x["query"] != x["question"]
        # "What are the key resources?": the part's opening and each subsection's, in order. Not
        # for a follow-up ("What are the risks there?" asks about the subject before).
        part = None if follow_up else self.search.part_asked(x["question"])
        if part is not None:
            overview = self.search.part_overview(part)
            opening = [Candidate(hit.section.sentences[0], rank, hit.score, set())
                       for rank, hit in enumerate(overview.hits[:PART_SENTENCES])]
            # The same evidence check: "How many customers does it have?" is not answered by them.
            if self.abstainer.decide(x["question"], overview, opening, catalog) is None:
                return Decision(x["question"], x["history"], x["query"], overview, catalog, opening, None)
        if follow_up and result.hits and content_terms(x["question"]):
            # A follow-up: sections come from the expanded query blended with the follow-up's own
            # words, sentences from its own words ("Where?" has none: both come from the expanded
            # query, "where? (... listed hong kong ...)").
            own = self.search.search(x["question"])
            result = self.search.blend(result, own, FOLLOW_UP_OWN_WEIGHT)
            self.search.rescore_sentences(result, x["question"], own.query_vector)
        if follow_up and result.hits and not may_repeat(x["question"]):
            self._leave_out_what_was_said(x["question"], x["history"], result, catalog)
        chosen = self.extractive.select(x["query"], result, catalog, more=True) if result.hits else []
        # A sentence said after a full answer is not evidence for it: the answer stands without it.
        more = [c for c in chosen if c.more]
        chosen = [c for c in chosen if not c.more]
        asked = asks_their_contact(x["question"]) if follow_up and not INJECTION.search(x["question"]) else None
        if asked is not None:
            last = next((t.content for t in reversed(x["history"]) if t.role == "assistant"), "")
            if names := person_names(last):
                return self._their_contact(x, asked, names, result, catalog)
        reason = self.abstainer.decide(x["question"], result, chosen, catalog, follow_up=follow_up)
        if reason == "not_in_document" and chosen and len(result.parts) <= 1:
            fact = self._fact_elsewhere(x["question"], result, chosen, catalog, follow_up)
            if fact is not None:
                return Decision(x["question"], x["history"], x["query"], result, catalog, [fact], None)
            others = self._for_the_rest(x["question"], result, chosen, catalog, follow_up)
            if others:
                return Decision(x["question"], x["history"], x["query"], result, catalog, others, None)
        if reason == "not_in_document" and len(result.parts) > 1:
            return self._answer_parts(x, result, catalog, follow_up)
        if reason is None and len(chosen) > 1 and len(result.parts) <= 1:
            chosen = self._only_what_dates_it(x["question"], result, chosen, catalog, follow_up)
        # A question for a date or figure gets its fact, nothing more of the section.
        if reason is None and more and not (DATE.search(x["question"]) or NUMERIC.search(x["question"])):
            chosen = chosen + more
        return Decision(x["question"], x["history"], x["query"], result, catalog, chosen, reason)

    @staticmethod
    def _leave_out_what_was_said(follow_up: str, history: list[Turn], result: SearchResult, catalog: Catalog) -> None:
        """What the answers before said is not said again ("Why?", "Tell me more"): sentences
        already given are left out, and a section with nothing new gives way to the next. Only
        when every one was given are they kept, at a lower score (said again rather than nothing)."""
        answers = [t.content for t in history if t.role == "assistant"]
        said = " ".join(answers)
        said_terms = set(content_terms(" ".join(answers[-2:])))  # in other words: the last two answers
        asked = set(content_terms(follow_up)) - said_terms  # "Does it extend to cars?"
        # "What is POCO for?" after a list of sub-brands: one item of what was said, by its name.
        asked |= set(content_terms(" ".join(CAPITALISED.findall(follow_up)))) - catalog.subject_forms

        def given(text: str) -> bool:
            """Quoted before, or said in other words (most of its words), with nothing the
            follow-up asks of that the answers before did not say."""
            terms = set(content_terms(text))
            said_before = text in said or (bool(terms) and len(terms & said_terms) >= SAID_SHARE * len(terms))
            return said_before and not terms & asked

        fresh = [{i: v for i, v in hit.sentence_scores.items() if not given(catalog.sentences[i].text)}
                 for hit in result.hits]
        if any(fresh):
            for hit, scores in zip(result.hits, fresh, strict=True):
                hit.sentence_scores = scores
            result.hits = [hit for hit in result.hits if hit.sentence_scores]
        else:
            for hit in result.hits:
                for i in hit.sentence_scores:
                    if given(catalog.sentences[i].text):
                        hit.sentence_scores[i] -= 0.2

    def _their_contact(self, x: dict[str, Any], asked: str, names: set[str], result: SearchResult,
                       catalog: Catalog) -> Decision:
        """"What's his extension?" after "The Finance Director, Marcus Okonkwo, owns the policy":
        the contact detail of someone the last answer named (``names``), from a line that names
        them too; another person's extension is no answer ("the document does not say")."""
        found = [Candidate(i, rank, score, set()) for rank, hit in enumerate(result.hits)
                 for i, score in sorted(hit.sentence_scores.items(), key=lambda kv: -kv[1])
                 if contact_of(text := catalog.sentences[i].text, asked) and any(n in text for n in names)]
        reason = None if found else "not_in_document"
        return Decision(x["question"], x["history"], x["query"], result, catalog, found[:1], reason)

    def _for_the_rest(self, question: str, result: SearchResult, chosen: list[Candidate], catalog: Catalog,
                      follow_up: bool) -> list[Candidate]:
        """"What's the daily rate for Rome?" where the table lists Paris and Dublin: when only a
        thing the documents never name declines the question, what they say of everything they do
        not list ("For any overseas city not listed, ask the Expenses Officer.") answers it, from
        the top section. Nothing when it says nothing of the rest."""
        if self.abstainer.decide(question, result, chosen, catalog, follow_up=follow_up, unnamed=True) is not None:
            return []
        ranked = self.extractive.runners_up(result, set())  # the top section's sentences, best first
        return [c for c in ranked if FOR_THE_REST.search(catalog.sentences[c.index].text)][:2]

    def _fact_elsewhere(self, question: str, result: SearchResult, chosen: list[Candidate], catalog: Catalog,
                        follow_up: bool) -> Candidate | None:
        """"When did the company go public?": the top section's best sentences speak of the company
        but give no date of listing. When they are refused for that alone, another sentence of the
        section that passes the same evidence check on its own answers instead."""
        if not self.abstainer.lacks_only_the_fact(question, result, chosen, catalog, follow_up=follow_up):
            return None
        for cand in self.extractive.runners_up(result, {c.index for c in chosen})[:FACT_TRIES]:
            if self.abstainer.decide(question, result, [cand], catalog, follow_up=follow_up) is None:
                return cand
        return None

    def _only_what_dates_it(self, question: str, result: SearchResult, chosen: list[Candidate], catalog: Catalog,
                            follow_up: bool) -> list[Candidate]:
        """"When did they go public?": where a sentence of a section gives the date (or figure) of
        the event on its own, the section's other sentences go; its founding year would be read as
        the answer. Other sections keep theirs (they may answer what the question assumes)."""
        if not (DATE.search(question) or NUMERIC.search(question)):
            return chosen
        alone = {c.index for c in chosen
                 if self.abstainer.decide(question, result, [c], catalog, follow_up=follow_up) is None}
        dated = {catalog.sentences[i].section_id for i in alone}
        return [c for c in chosen if c.index in alone or catalog.sentences[c.index].section_id not in dated]

    def _answer_parts(self, x: dict[str, Any], result: SearchResult, catalog: Catalog, follow_up: bool) -> Decision:
        """"When did it go public, and what did its move into cars open up?": when the whole
        question is not answered, each part is checked on its own search. The parts the
        documents answer are answered; the others are named in ``not_answered``. When no part
        passes on its own, the whole question's refusal stands."""
        refused = Decision(x["question"], x["history"], x["query"], result, catalog, [], "not_in_document")
        # Only parts that are questions of their own: not "..., which ones?" or "... Name it."
        if not all(self.abstainer.own_question(part.query) for part in result.parts):
            return refused
        answered: list[list[Candidate]] = []
        missing: list[str] = []
        for part in result.parts:
            picked = self.extractive.select(part.query, part, catalog) if part.hits else []
            if picked and self.abstainer.decide(part.query, part, picked, catalog, follow_up=follow_up) is None:
                answered.append(picked)
            else:
                missing.append(part.query)
        # Each answered part's best sentence first, then their next ones, so that no part's
        # answer is cut off by the sentence limit.
        chosen: list[Candidate] = []
        seen: set[int] = set()
        for rank in range(max((len(p) for p in answered), default=0)):
            for picked in answered:
                if rank < len(picked) and picked[rank].index not in seen:
                    chosen.append(picked[rank])
                    seen.add(picked[rank].index)
        # Every part answered on its own search: answered, when each part asks something ("How
        # much is the deposit, and when is the fee due?"), not when one only sets the scene
        # ("Besides Lei Jun, who were the other co-founders?" is the whole question's to answer).
        if not chosen or (not missing and not all(ASKS.search(part.query) for part in result.parts)):
            return refused
        return Decision(x["question"], x["history"], x["query"], result, catalog,
                        chosen[: self.settings.max_answer_sentences], None, missing)

    def decide(self, question: object, history: object = None) -> Decision:
        """Validate, rewrite, retrieve and decide whether the document answers."""
        text = clean_question(question, self.settings.max_question_chars)
        turns = parse_history(history)
        # An earlier "The document does not say ..." holds no words of the conversation's subject.
        turns = [t for t in turns if not (t.role == "assistant" and self._refusal.fullmatch(t.content.strip()))]
        # Only the recent turns are read, so a long history costs no more than a short one.
        turns = turns[-RECENT_TURNS:]
        # Slips of typing ("Wich ...", "the comapny"), in the question and the user's earlier turns.
        catalog = self.search.catalog()
        text = self.speller.mend(text, catalog)
        turns = [Turn(t.role, self.speller.mend(t.content, catalog)) if t.role == "user" else t for t in turns]
        injected = bool(INJECTION.search(text))
        if GREETING.match(text) and not injected:  # "thanks!", "hi": no search
            nothing = SearchResult(text, [], np.zeros(0, np.float32), [], {})
            return Decision(text, turns, text, nothing, catalog, [], "greeting")
        if not injected:  # (an aside that is an injection is refused for it)
            text = drop_aside(text)
        return self.decide_chain.invoke({"question": text, "history": turns})

    # --- public surface ----------------------------------------------------------
    @property
    def answered_by(self) -> str:
        return getattr(self.answerer, "label", self.answerer.name)

    def ask(self, question: object, history: object = None) -> Answer:
        """The whole answer at once."""
        answer: Answer | None = None
        for kind, value in self.stream(question, history):
            if kind == "answer":
                answer = value
        assert answer is not None
        return answer

    def stream(self, question: object, history: object = None) -> Iterator[StreamEvent]:
        """("token", text) events as the answer forms, then ("answer", Answer) with citations."""
        t0 = time.perf_counter()
        decision = self.decide(question, history)
        t1 = time.perf_counter()
        if decision.reason:
            answer = self.abstention(decision)
            yield from _tokens(answer.answer)
        elif self.answerer is self.extractive:
            answer = self.extractive_answer(decision)
            yield from _tokens(answer.answer)
        else:
            generative: Answerer = self.answerer  # type: ignore[assignment]
            final: Answer | None = None
            for kind, value in generative.stream(decision, lambda: self.extractive_answer(decision)):
                if kind == "answer":
                    final = value
                else:
                    yield kind, value
            assert final is not None
            answer = final
        answer.query = decision.query
        if not answer.abstained:
            answer.not_answered = list(decision.not_answered)
        answer.timings = {**decision.result.timings, "decide_ms": (t1 - t0) * 1000,
                          "total_ms": (time.perf_counter() - t0) * 1000}
        yield "answer", answer

    def extractive_answer(self, decision: Decision) -> Answer:
        from assistant.answer import compose

        return compose(decision.chosen, decision.result, decision.catalog, self.extractive.name)

    def abstention(self, decision: Decision) -> Answer:
        docs = sorted({s.document for s in decision.catalog.sections.values()})
        names = ", ".join(docs) if docs else "the indexed documents"
        # An instruction is refused as one; a question off the documents is not told it was one.
        prompt = {"injection": "refuse", "off_topic": "off_topic", "greeting": "greeting"}.get(decision.reason or "",
                                                                                             "abstain")
        if prompt == "off_topic" and other_language(decision.question):  # not off the documents: in another tongue
            prompt = "other_language"
        return Answer(answer=load_text(prompt).format(documents=names), abstained=True,
                      answered_by=self.answered_by, citations=[], query=decision.query,
                      reason=decision.reason or "")

    def health(self) -> dict[str, Any]:
        catalog = self.search.catalog()
        return {
            "status": "ok", "answerer": self.answered_by, "sections": len(catalog),
            "sentences": len(catalog.sentences), "documents": sorted({s.document for s in catalog.sections.values()}),
            "generation": catalog.generation,
        }

    def warm_up(self) -> None:
        self.search.warm_up()
        self.ask("What is this document about?")
        if self.abstainer.chit_chat is not None:
            self.abstainer.chit_chat.vectors()


def _tokens(text: str) -> Iterator[StreamEvent]:
    for piece in re.findall(r"\S+\s*", text):
        yield "token", piece


def build_assistant(settings: Settings) -> Assistant:
    """Wire store, embedder, search and the configured answerer."""
    from assistant.llm import build_answerer
    from index.embeddings import build_embedder
    from index.store import build_store

    store = build_store(settings, create=False)
    embedder = build_embedder(settings)
    search = HybridSearch(store, embedder, settings)
    answerer = build_answerer(settings)
    rewriter = None
    if answerer is not None and settings.llm_condense and hasattr(answerer, "condense"):
        from assistant.rewrite import LLMQueryRewriter

        rewriter = LLMQueryRewriter(answerer.condense)
    return Assistant(settings, search, answerer, rewriter=rewriter)
