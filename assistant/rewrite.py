"""Question + history -> standalone query, without an LLM.

Usage::

    query = QueryRewriter().rewrite("And what about Redmi?", history)

A follow-up ("And what about Redmi?", "Why does that matter?") borrows the subject of the
earlier turns: the content words of the previous user questions that the follow-up does not
repeat. A question that stands on its own is searched as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from assistant.abstain import CONTACT, DATE, NUMERIC, SUPERLATIVE, asks_their_contact
from assistant.models import Turn
from index.catalog import STOPWORDS, content_terms, words

_FOLLOWUP_START = re.compile(
    r"^\s*(and|but|so|also|then|what about|how about|what else|why|how so|in what way|is that|does that"
    r"|do they|did they|can they|are they|was it|is it|which of|tell me more|more on|elaborate)\b",
    re.I,
)
_ANAPHORA = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|that|this|those|these|he|she|his|her|there|such|same|former|latter"
    r"|the company|the firm|the brand|the business|one|ones)\b",
    re.I,
)


# A word on how to answer, or who is asking, before the question itself: "Skip the intro and tell
# me ...", "Forget the phones - what about ...?", "Keep it short: ...", "In plain English, what
# is ...?", "Pretend I'm new here: ...". Its words are not what is asked about.
_ASIDE = re.compile(
    r"^\W*(?:(?:please|ok(?:ay)?|so|right)[,\s]+)?(?:"
    r"(?P<skipped>(?:skip|bypass|forget(?: about)?|ignore|never mind|leave (?:out|aside)|set aside|drop|cut|spare me"
    r"|no need for) (?:the|all the|this|that|those|these|any|your)(?: [\w'’-]+){1,3}?"
    r"|(?:don['’]?t|do not) (?:give me|bother with|tell me) (?:the|a) (?:long|full|whole|detailed)(?: [\w'’-]+){0,2}?)"
    r"|(?:be|keep it|make it|keep this|make this)(?: \w+)? (?:brief|short|quick|simple|concise|snappy)"
    r"|(?:quick|short|simple|easy|silly|dumb|basic) (?:question|one|q|prompt|query|check)(?: for (?:my|the|our) \w+)?"
    r"|(?:(?:translate|put|say|explain|rephrase|tell me)(?: (?:it|this|that))? )?(?:into|in) (?:plain|simple|everyday"
    r"|layman['’]?s|normal|non-?technical) (?:english|terms|words|language)"
    r"|explain (?:it |this )?like i['’]?m (?:five|5|a \w+|new)|eli5|tl;?dr"
    r"|(?:(?:pretend|imagine|assume|suppose|act as if|act as though|act like)(?: that)? )?(?:i['’]?m|i am|i have|i've"
    r"|i only have|we['’]?re|we are) (?:new|in a (?:hurry|rush)|short (?:on|of) time|not (?:an? )?(?:expert|techie"
    r"|specialist)|a (?:newbie|beginner|complete beginner|non-?expert)|(?:only )?(?:got |have )?(?:a|one|two|five"
    r"|\d+) (?:minute|min|second|sec)s?)(?: [\w'’-]+){0,3}?"
    r")\s*(?:[:;,.!–—-]+\s*|\s(?:and|but)\s+|\s)(?:(?:just|simply|quickly|briefly|now)\s+)?"
    r"(?=(?:(?:on|in|at|for|from|by|to|with|since|until) )?"
    r"(?:tell me|give me|explain|describe|list|show me|summari[sz]e|what|which|who|whom|whose|how|when|where|why"
    r"|is|are|was|were|does|do|did|can|could|should)\b)",
    re.I,
)


_POINTS_BACK = re.compile(r"\b(it|its|that|this|them|those|these)\b", re.I)  # ("they": the documents' subject)


def drop_aside(question: str) -> str:
    """The question without a leading word on how to answer it ("Keep it short: who founded
    it?" -> "who founded it?"); unchanged when nothing but the aside would be left, or when the
    rest points back to what the aside names ("Forget the password: how do I reset it?")."""
    aside = _ASIDE.match(question)
    if aside is None:
        return question
    rest = question[aside.end():].strip()
    if len(rest.split()) < 2 or (aside.group("skipped") and _POINTS_BACK.search(rest)):
        return question
    return rest


_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "sixth": 5, "last": -1,
             "1st": 0, "2nd": 1, "3rd": 2, "4th": 3, "5th": 4, "final": -1}
_ORDINAL_REF = re.compile(
    r"\b(" + "|".join(_ORDINALS) + r")\s+(one|item|point|risk|reason|part|thing|option|of (?:them|those|these))\b",
    re.I,
)


def _strip_markers(text: str) -> str:
    return re.sub(r"\[\d+\]", "", text.split("\nSources")[0])


_LIST_LEAD = re.compile(r"^.*\b(lists?|are|is|include[sd]?|including|spanning|span|such as|like|across|from|covers?"
                        r"|comprises?|namely)\b\s+", re.I)


def _ordinal_item(question: str, answer: str) -> str | None:
    """'the second one' -> the second item of a list in the previous answer.

    The list is the sentence with the most separators; it starts after the lead-in of the first
    item that has one ("Xiaomi works with partners spanning silicon, manufacturing, and content").
    """
    m = _ORDINAL_REF.search(question)
    if not m:
        return None
    if ":" in answer:  # "Five pillars: a, b, c" - the list follows the colon
        answer = answer.split(":", 1)[1]
    separator = ";" if ";" in answer else ","
    sentences = [t for t in re.split(r"(?<=[.!?])\s+|\n", answer) if t.strip()] or [answer]
    sentence = max(sentences, key=lambda t: t.count(separator))
    items = [re.sub(r"^(and|or)\s+", "", i.strip()).rstrip(".!?") for i in sentence.split(separator)]
    run = [i for i in items if words(i)]
    for n, item in enumerate(run[:-1]):
        lead = _LIST_LEAD.match(item)
        if lead:
            run = [item[lead.end():]] + run[n + 1:]
            break
    index = _ORDINALS[m.group(1).lower()]
    return run[index] if run and index < len(run) else None


# A follow-up is not told again what the answers before said ("Why?", "How so?", "What does it
# need to do to keep that going?") unless it asks for a fact they may hold ("Where?", "Who
# founded it?", "Which one is the largest?") or turns to another subject ("And the premium
# line?"), where a sentence given before may answer. Asking for more ("Who else?") always gets
# something new.
ASKS_FOR_MORE = re.compile(
    r"\b(?:more|else|further|besides|additional|elaborate|expand|continue|go on|keep going|details?|examples?"
    r"|such as|like what|for instance)\b", re.I)
# "And Europe?", "What about services?", "And the manufacturing ones?": the question before, of
# another subject. The earlier answer's words are about the earlier subject: they are not
# borrowed, and a sentence it gave may answer again.
OTHER_SUBJECT = re.compile(
    r"^\W*(?:(?:and\s+)?(?:what|how)\s+about|and)\s+(?!(?:why|how|what|when|where|who|which|is|are|was|were|do|does"
    r"|did|can|could|should|would|will|so|then|also|that|this|it|they)\b)\w", re.I)
ASKS_FOR_A_FACT = re.compile(
    r"\b(?:where|when|who|whom|whose|which|what year|how (?:many|much|long|old|often)|first|last|earliest|latest)\b",
    re.I)


def may_repeat(follow_up: str) -> bool:
    """Whether a follow-up may be answered by a sentence an earlier answer gave: it asks for a fact
    or turns to another subject, and does not ask for more."""
    if ASKS_FOR_MORE.search(follow_up):
        return False
    # ("What's his extension?", "and her email?": a contact detail the last answer may have given.)
    return bool(ASKS_FOR_A_FACT.search(follow_up) or SUPERLATIVE.search(follow_up) or NUMERIC.search(follow_up)
                or DATE.search(follow_up) or OTHER_SUBJECT.search(follow_up) or CONTACT.search(follow_up)
                or asks_their_contact(follow_up) is not None)


def is_follow_up(question: str) -> bool:
    """Does the question lean on earlier turns (a leading 'and', a pronoun, very few words)?"""
    content = [w for w in words(question) if w not in STOPWORDS]
    return bool(_FOLLOWUP_START.search(question) or _ANAPHORA.search(question) or len(content) <= 2)


class QueryRewriter:
    """Rule-based condensation of a follow-up into a standalone query."""

    def __init__(self, max_turns: int = 2, max_terms: int = 8, answer_terms: int = 6) -> None:
        self.max_turns = max_turns
        self.max_terms = max_terms
        self.answer_terms = answer_terms

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        question = question.strip()
        if not history or not is_follow_up(question):
            return question
        own = set(words(question))
        borrowed: list[str] = []

        def borrow(text: str, limit: int) -> None:
            taken = 0
            for w in words(text):
                if taken >= limit:
                    break
                if w not in STOPWORDS and w not in own and w not in borrowed and len(w) > 2:
                    borrowed.append(w)
                    taken += 1

        users = [t.content for t in history if t.role == "user"][-self.max_turns :]
        for text in reversed(users):
            borrow(text, self.max_terms)
        answers = [t.content for t in history if t.role == "assistant"]
        switches = OTHER_SUBJECT.search(question) and not _ORDINAL_REF.search(question) and any(
            w not in STOPWORDS and len(w) > 2 for w in own)
        if answers and not switches:
            last = _strip_markers(answers[-1])
            item = _ordinal_item(question, last)
            borrow(item or last, self.max_terms if item else self.answer_terms)
        if not borrowed:
            return question
        return f"{question} ({' '.join(borrowed)})"


class LLMQueryRewriter:
    """Condense a follow-up with the configured LLM (prompts/condense.txt); the rule-based
    rewrite stands in when the model fails or returns something unrelated to the conversation."""

    def __init__(self, condense: Callable[[str, list[Turn]], str], fallback: QueryRewriter | None = None) -> None:
        self.condense = condense
        self.fallback = fallback or QueryRewriter()

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        question = question.strip()
        if not history or not is_follow_up(question):
            return question
        try:
            condensed = self.condense(question, list(history)).strip()
        except Exception:  # noqa: BLE001 - a model or server error must not fail the question
            condensed = ""
        # Related to the conversation: a content word of it, not a citation marker ("[1]") or a number.
        context = {t for t in content_terms(question + " " + " ".join(t.content for t in history)) if not t.isdigit()}
        if condensed and set(content_terms(condensed)) & context and len(condensed) <= 500:
            return condensed
        return self.fallback.rewrite(question, history)
