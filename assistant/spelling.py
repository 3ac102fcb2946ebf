"""Slips of typing in a question, mended before it is searched.

"Wich ODM companies manufacture Xiaomi phones?" asks for names, and "Does the comapny set money
aside?" is about the company: a slip hides both from the question-type patterns, from BM25 and
from the embedding. Mended are:

- question words ("wich", "waht", "whne"): a fixed list of common slips;
- a word of four letters or more that the documents do not use, that is no English word (the
  word list of ``pyspellchecker``, loaded only when such a word comes), no British spelling of
  one, and no everyday word the lexicon knows. One slip (a letter added, dropped or changed, or
  two swapped, after the first) from the documents' words of one stem, it becomes the most
  frequent of them ("poko": "poco"); near words of two stems, the far more frequent one
  ("customrs": "customers", not "customs"), else it stays. With none of their words near, a
  word of five letters or more becomes its most frequent English neighbour ("peopple"), unless
  it is capitalised inside a sentence: a name ("Realme"); a four-letter one stays.

A real word the documents do not use ("trainers" beside "trainees") is what the asker meant and
stays as typed.

Usage::

    speller = Speller(extra_known=lexicon_words)
    speller.mend("Wich ODM partners does the comapny use?", catalog)
    # -> "Which ODM partners does the company use?"
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from index.catalog import Catalog, stem

if TYPE_CHECKING:
    from spellchecker import SpellChecker

# Common slips of question words (every entry is no English word).
QUESTION_WORD_SLIPS = {
    "wich": "which", "whcih": "which", "whihc": "which", "wihch": "which", "whic": "which",
    "waht": "what", "whta": "what", "hwat": "what", "wht": "what", "wat": "what",
    "whne": "when", "wehn": "when", "whn": "when",
    "whre": "where", "wehre": "where", "whree": "where", "wher": "where",
    "hwy": "why", "whyy": "why",
    "hwich": "which", "whoes": "whose",
}
_QUESTION_SLIP = re.compile(r"\b(" + "|".join(QUESTION_WORD_SLIPS) + r")\b", re.I)
_DOMINANT = 3  # a stem this many times as frequent in the documents as the next is the one meant
# Four letters or more, not an acronym or a name in capitals, nor the stem of a contraction ("Aren't").
_WORD = re.compile(r"\b[A-Za-z][a-z]{3,}\b(?!['’]\w)")
# A contraction typed without its apostrophe is no slip of a document word ("dont" is not "done").
_CONTRACTION = re.compile(r"(?:do|does|did|is|are|was|were|has|have|had|ca|wo|should|would|could|need|must)nt")
_TWO_WORDS = frozenset({"co-op"})  # besides "re-": a hyphen that makes another word
_COMPOUND = re.compile(r"\b[A-Za-z]+(?:-[A-Za-z]+)*\b")
_SHORT = 4  # a word this short is mended only to a document word: English words of four letters lie too close


def one_slip(a: str, b: str) -> bool:
    """Whether ``a`` and ``b`` differ by one inserted, deleted or changed letter, or two adjacent
    letters swapped."""
    if a == b:
        return True
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    if len(long_) - len(short) != 1:
        return False
    i = next((k for k in range(len(short)) if short[k] != long_[k]), len(short))
    return short[i:] == long_[i + 1:]


class Speller:
    """Mends a question's slips against the documents' words (cached per index generation)."""

    def __init__(self, extra_known: Iterable[str] = ()) -> None:
        self.extra_known = {w.lower() for w in extra_known}
        self._spellchecker: SpellChecker | None = None
        self._generation: object = object()
        self._counts: Counter[str] = Counter()
        self._stems: set[str] = set()
        self._by_initial: dict[str, list[str]] = {}
        self._hyphenated: dict[str, str] = {}
        self._hyphenated_forms: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def mend(self, question: str, catalog: Catalog) -> str:
        """``question`` with its slips mended (the same string when it has none)."""
        question = _QUESTION_SLIP.sub(lambda m: _like(m.group(0), QUESTION_WORD_SLIPS[m.group(0).lower()]), question)
        self._vocabulary(catalog)
        question = _COMPOUND.sub(self._compound, question)
        # A capitalised word inside a sentence may be a name: mended only to the documents' own words.
        return _WORD.sub(lambda m: self._mend_word(m.group(0), m.group(0)[0].isupper() and not _opens_sentence(
            question, m.start())), question)

    def _compound(self, m: re.Match[str]) -> str:
        """A compound as the documents write it: "email" where they write "e-mail", "wi-fi" where
        they write "wifi". Not where the two forms are two words: "resign" is no "re-sign", nor
        "recover" "re-cover", nor "coop" "co-op"."""
        typed = m.group(0)
        word = typed.lower()
        if "-" in word:
            joined = word.replace("-", "")
            if word in self._hyphenated_forms or joined not in self._counts:
                return typed
            hyphenated, closed = word, joined
        else:
            form = self._hyphenated.get(word)
            if not form or word in self._counts:
                return typed
            hyphenated, closed = form, word
        if hyphenated.startswith("re-") or hyphenated in _TWO_WORDS:
            return typed
        return _like(typed, closed if "-" in word else hyphenated)

    def _mend_word(self, typed: str, name_like: bool) -> str:
        word = typed.lower()
        if word in self._counts or stem(word) in self._stems or word in self.extra_known:
            return typed
        near = [w for w in self._by_initial.get(word[0], ()) if abs(len(w) - len(word)) <= 1 and one_slip(word, w)]
        if not near and name_like:
            return typed  # a name the documents do not use ("Realme") is no slip of an English word
        if _CONTRACTION.fullmatch(word):
            return typed
        if len(word) <= _SHORT:
            # A changed or swapped letter ("poko", "casr"); an added one is more likely an
            # abbreviation ("dept" is not "depth").
            near = [w for w in near if len(w) == len(word)]
            if not near:
                return typed
        english = self._english()
        if word in english:
            return typed
        if near:
            # One stem, or one far more frequent than the others ("customrs": "customers", not "customs").
            by_stem: Counter[str] = Counter()
            for w in near:
                by_stem[stem(w)] += self._counts[w]
            ranked = by_stem.most_common()
            if len(ranked) > 1 and ranked[0][1] < _DOMINANT * ranked[1][1]:
                return typed
            best = max((w for w in near if stem(w) == ranked[0][0]), key=lambda w: (self._counts[w], w))
            return _like(typed, best)
        if _british(word, english):
            return typed  # "capitalisation": a word, spelt the British way
        # A slip of an everyday English word ("peopple", "earnning"): its most frequent neighbour.
        fix = english.correction(word)
        return _like(typed, fix) if fix and fix.isalpha() and fix != word and one_slip(word, fix) else typed

    def _vocabulary(self, catalog: Catalog) -> None:
        if self._generation == catalog.generation and self._counts:
            return
        with self._lock:
            counts = catalog.word_counts
            # The documents' hyphenated words by their letters ("email": "e-mail"), the most used form.
            forms: Counter[str] = Counter()
            for section in catalog.sections.values():
                forms.update(w.lower() for w in _COMPOUND.findall(section.text) if "-" in w)
            hyphenated: dict[str, str] = {}
            for form, _ in forms.most_common():
                hyphenated.setdefault(form.replace("-", ""), form)
            by_initial: dict[str, list[str]] = {}
            for w in counts:
                if w.isalpha() and len(w) >= 4:
                    by_initial.setdefault(w[0], []).append(w)
            # Published together, so that a question read meanwhile sees one generation's words.
            self._counts, self._stems, self._by_initial, self._hyphenated, self._hyphenated_forms = (
                counts, set(catalog.stems), by_initial, hyphenated, frozenset(hyphenated.values()))
            self._generation = catalog.generation

    def _english(self) -> SpellChecker:
        if self._spellchecker is None:
            from spellchecker import SpellChecker  # ~0.1 s, only when a question has an unknown word

            self._spellchecker = SpellChecker(distance=1)
        return self._spellchecker


_BRITISH = ((r"is(e|ed|es|ing|ation|ations)$", r"iz\1"), (r"ys(e|ed|es|ing)$", r"yz\1"), (r"our", "or"),
            (r"tre(s?)$", r"ter\1"), (r"ll(ed|ing|er|ers)$", r"l\1"), (r"ence$", "ense"), (r"ogue(s?)$", r"og\1"),
            (r"ae", "e"), (r"oe", "e"))


def _british(word: str, english: SpellChecker) -> bool:
    """Whether ``word`` is an English word spelt the British way ("capitalisation", "colour",
    "centre", "travelled"), which the American word list lacks."""
    return any(v != word and v in english for v in (re.sub(a, b, word) for a, b in _BRITISH))


def _opens_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip(" \t\"'“‘(")
    return not before or before[-1] in ".?!:\n"


def _like(typed: str, word: str) -> str:
    """``word`` with the capital of ``typed``'s first letter."""
    return word[:1].upper() + word[1:] if typed[:1].isupper() else word
