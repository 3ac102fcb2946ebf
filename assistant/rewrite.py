"""Question + history -> standalone query, without an LLM.

Usage::

    query = QueryRewriter().rewrite("And what about Redmi?", history)

A follow-up ("And what about Redmi?", "Why does that matter?") borrows the subject of the
earlier turns: the content words of the previous user questions that the follow-up does not
repeat. A question that stands on its own is searched as it is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.models import Turn
from index.catalog import STOPWORDS, words

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


def is_follow_up(question: str) -> bool:
    """Does the question lean on earlier turns (a leading 'and', a pronoun, very few words)?"""
    content = [w for w in words(question) if w not in STOPWORDS]
    return bool(_FOLLOWUP_START.search(question) or _ANAPHORA.search(question) or len(content) <= 2)


class QueryRewriter:
    """Rule-based condensation of a follow-up into a standalone query."""

    def __init__(self, max_turns: int = 2, max_terms: int = 8) -> None:
        self.max_turns = max_turns
        self.max_terms = max_terms

    def rewrite(self, question: str, history: Sequence[Turn]) -> str:
        question = question.strip()
        if not history or not is_follow_up(question):
            return question
        own = set(words(question))
        borrowed: list[str] = []
        users = [t.content for t in history if t.role == "user"][-self.max_turns :]
        for text in reversed(users):
            for w in words(text):
                if w not in STOPWORDS and w not in own and w not in borrowed and len(w) > 2:
                    borrowed.append(w)
        if not borrowed:
            return question
        return f"{question} ({' '.join(borrowed[: self.max_terms])})"
