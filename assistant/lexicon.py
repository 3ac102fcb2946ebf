"""Everyday words -> the formal words reports use, added to BM25 queries.

People ask "do loyal shoppers get any perks?"; reports write "rewards for customers". For a
word or phrase of the question that a lexicon lists (``assistant/data/register.tsv``: about
1,200 general business, workplace and everyday entries in four passes, written without sight of
any document or question set; four for "IPO" and five for "need" / "have to" were added by hand
after failures), the formal equivalents that the documents use are added to the lexical query at
a lower weight (``Weights.expansion``). A one-word entry the documents use is left alone; a
phrase ("go public") is expanded unless the documents use the phrase itself, and its own words
are then not searched one by one (``idiom_stems``). A phrasal verb is found with its object
between verb and particle too ("puts the phones together" for "put together"). The evidence
check uses the same entries to find a question's everyday words in the documents' formal ones
(``assistant/abstain.py``).

Usage::

    lexicon = RegisterLexicon.load(path)
    lexicon.terms("Do loyal shoppers get any perks?", catalog.stems)   # ["consumer", "customer", ..., "reward"]

The file format is one entry per line: the everyday word or phrase, a TAB, then formal
equivalents separated by commas. Teams can point ``ASSISTANT_QUERY_LEXICON`` at their own file
(their jargon and acronyms), or set it to ``off``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.settings import QUERY_LEXICON
from index.catalog import STOPWORDS, stem, words

BUNDLED_LEXICON = QUERY_LEXICON  # assistant/data/register.tsv, the settings' default


class LexiconError(ValueError):
    """The lexicon file cannot be read."""


# Particles of phrasal verbs that may stand after the verb's object ("puts the phones together",
# "paid me back"): an entry "put together" is found there too.
PARTICLES = ("together", "up", "out", "off", "down", "back", "over", "in", "away", "on", "around")


@dataclass(frozen=True)
class RegisterLexicon:
    entries: dict[str, tuple[str, ...]]
    pattern: re.Pattern[str] | None
    separated: re.Pattern[str] | None = None  # a phrasal verb with up to three words between

    @classmethod
    def load(cls, path: Path | None) -> RegisterLexicon:
        """Read ``path`` (None: an empty lexicon). Lines without a TAB are a clear error."""
        entries: dict[str, tuple[str, ...]] = {}
        if path is not None:
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                raise LexiconError(f"cannot read the query lexicon {path}: {exc}") from exc
            for number, line in enumerate(lines, 1):
                if not line.strip() or line.startswith("#"):
                    continue
                key, tab, formal = line.partition("\t")
                if not tab or not key.strip() or not formal.strip():
                    raise LexiconError(f"{path}, line {number}: expected 'everyday words<TAB>formal, words'")
                # A key listed twice ("second-hand", "second hand") keeps both lines' equivalents.
                name = " ".join(words(key))
                added = tuple(f.strip().lower() for f in formal.split(",") if f.strip())
                entries[name] = tuple(dict.fromkeys(entries.get(name, ()) + added))
        keys = sorted((k for k in entries if k), key=len, reverse=True)
        pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b") if keys else None
        verbs = sorted({k.split()[0] for k in keys if len(k.split()) == 2 and k.split()[1] in PARTICLES})
        separated = re.compile(r"\b(" + "|".join(map(re.escape, verbs)) + r") (?:[^ ]+ ){1,3}?("
                               + "|".join(PARTICLES) + r")\b") if verbs else None
        return cls(entries, pattern, separated)

    def words(self) -> set[str]:
        """Every word of the everyday side ("perks", "go", "public")."""
        return {w for key in self.entries for w in key.split()}

    def matches(self, query: str, uses_phrase: Callable[[str], bool] | None = None) -> list[str]:
        """The entries ``query`` uses, longest first. A phrase entry ("go public") that the
        documents use as it stands (``uses_phrase``) is not one: its words mean what they say."""
        if self.pattern is None:
            return []
        text = " ".join(words(query))
        found = [m.group(1) for m in self.pattern.finditer(text)]
        if self.separated is not None:
            found += [key for m in self.separated.finditer(text)
                      if (key := f"{m.group(1)} {m.group(2)}") in self.entries and key not in found]
        return [key for key in found if not (uses_phrase and " " in key and uses_phrase(key))]

    def terms(self, query: str, known: set[str], uses_phrase: Callable[[str], bool] | None = None) -> list[str]:
        """Stemmed formal terms to add to ``query``'s BM25 terms; ``known``: the documents' stems.
        A one-word entry the documents use is left alone; a phrase ("go public") is expanded
        unless they use the phrase itself (``uses_phrase``; without it, unless they use each word)."""
        extra: list[str] = []
        for key in self.matches(query, uses_phrase):
            own = [stem(w) for w in key.split() if w not in STOPWORDS]
            if own and all(s in known for s in own) and (uses_phrase is None or " " not in key):
                continue  # the documents use these very words
            for phrase in self.entries[key]:
                for w in words(phrase):
                    s = stem(w)
                    if w not in STOPWORDS and s in known and s not in own and s not in extra:
                        extra.append(s)
        return extra

    def idiom_stems(self, query: str, known: set[str], uses_phrase: Callable[[str], bool]) -> set[str]:
        """Stems of the words of ``query``'s phrase entries that the documents do not use as
        phrases ("go" and "public" in "go public"), when the documents use a formal equivalent:
        taken one by one, such words match the wrong text ("Go-to-Market")."""
        idioms: set[str] = set()
        for key in self.matches(query, uses_phrase):
            if " " in key and any(stem(w) in known for p in self.entries[key] for w in words(p) if w not in STOPWORDS):
                idioms |= {stem(w) for w in key.split() if w not in STOPWORDS}
        return idioms
