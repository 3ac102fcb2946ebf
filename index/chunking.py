"""Sections -> chunks: sentences and sentence windows that never cross a section boundary.

Every chunk is a verbatim slice of its document (``doc.text[start:end] == chunk.text``), so a
chunk or sentence can be quoted as it stands. Three kinds are indexed per section:

- ``title``: the heading path, carrying the whole section body as its text (title signal);
- ``window``: overlapping sentence windows that fit the embedding model's input (section signal);
- ``sentence``: each sentence (sentence signal, and the unit answers are composed from).

Ids are hashes of the content, so re-indexing an unchanged section produces the same ids.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from index.sections import ANSWER_MARK, BULLET_MARK, Section, is_row

TokenCounter = Callable[[str], int]

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9\u00C0-\uFFFF])|\n+")
# A numbered step's number ("1. Go to the portal."), or a lettered one's: part of its sentence.
_LIST_NUMBER = re.compile(r"(?:\d{1,3}|[A-Za-z]|[ivxIVX]{2,5}|[QA]\d{1,3})[.)]")  # "Q1. Can I ...?" too
_REPLY_NO = re.compile(rf"(?:{BULLET_MARK}\s+|{ANSWER_MARK})?No\.")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "Mr.", "Mrs.", "Ms.", "Dr.", "St.", "No.", "Inc.",
                  "Ltd.", "Co.", "Corp.", "U.S.", "U.K.", "approx.", "Fig.", "cf.")


@dataclass(frozen=True)
class Chunk:
    id: str
    kind: str  # "title" | "window" | "sentence"
    section_id: str
    document: str
    title: str
    path: tuple[str, ...]
    text: str
    start: int
    end: int

    @property
    def embed_text(self) -> str:
        return embed_text(self.kind, self.path, self.text)


def embed_text(kind: str, path: Sequence[str], text: str) -> str:
    """What the embedding model reads: the heading path gives each chunk its context."""
    heading = " > ".join(path)
    if kind == "title":
        return heading
    return f"{heading}: {text}"


def approx_tokens(text: str) -> int:
    """A model-free estimate of word pieces (used by tests and as a fallback)."""
    return int(len(re.findall(r"\w+|[^\w\s]", text)) * 1.3) + 2


def _ends_with_abbreviation(text: str) -> bool:
    """True for "... e.g." or "... Inc.", not for "... ODMs." (the abbreviation must be a word)."""
    for a in _ABBREVIATIONS:
        if text.endswith(a) and (len(text) == len(a) or not text[-len(a) - 1].isalnum()):
            return True
    return False


def sentence_spans(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence boundaries in ``text`` as absolute (start, end) spans, white space trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        cut = m.start()
        before = text[start:cut]
        if "\n" not in m.group(0) and is_row(text[text.rfind("\n", 0, cut) + 1:cut]):
            continue  # a table row is one sentence: "| Total value (incl. VAT) | ..." goes on
        if m.group(0).strip("\n") and (_ends_with_abbreviation(before) or _LIST_NUMBER.fullmatch(before.strip())):
            # "No." as a reply ends its sentence ("A: No. Ask the desk."); "Form No. HR-12" goes on.
            if not _REPLY_NO.fullmatch(before.strip()) or text[m.end():m.end() + 1].isdigit():
                continue
        spans.append((start, cut))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s + offset, e + offset))
    return out


def _chunk_id(kind: str, section: Section, text: str, n: int) -> str:
    key = "\x1f".join((kind, section.id, text, str(n)))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:20]


def _hard_split(doc_text: str, start: int, end: int, count: TokenCounter,
                budget: int) -> list[tuple[int, int]]:
    """Split one over-long sentence at word boundaries into pieces within the budget."""
    pieces: list[tuple[int, int]] = []
    words: list[tuple[int, int]] = []
    for m in re.finditer(r"\S+", doc_text[start:end]):
        ws, we = m.start() + start, m.end() + start
        # A "word" with no spaces can still be hundreds of word pieces ("a,b,c,..."): cut it.
        words.extend(_split_word(doc_text, ws, we, count, budget) if count(doc_text[ws:we]) > budget
                     else [(ws, we)])
    i = 0
    while i < len(words):
        j = i + 1
        while j < len(words) and count(doc_text[words[i][0] : words[j][1]]) <= budget:
            j += 1
        pieces.append((words[i][0], words[j - 1][1]))
        i = j
    return pieces


def _split_word(doc_text: str, start: int, end: int, count: TokenCounter,
                budget: int) -> list[tuple[int, int]]:
    """Cut one space-free run into the longest character prefixes that fit the budget."""
    pieces: list[tuple[int, int]] = []
    while start < end:
        lo, hi = start + 1, end  # find the longest fitting [start, cut) by bisection
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if count(doc_text[start:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        pieces.append((start, lo))
        start = lo
    return pieces


def chunk_section(section: Section, doc_text: str, count: TokenCounter, max_tokens: int) -> list[Chunk]:
    """Chunks of one section: its title record, sentence windows, and sentences."""
    def make(kind: str, s: int, e: int, n: int = 0) -> Chunk:
        text = doc_text[s:e]
        return Chunk(_chunk_id(kind, section, text, n), kind, section.id, section.document,
                     section.title, section.path, text, s, e)

    chunks = [make("title", section.start, section.end)]
    if not section.text:
        return chunks
    prefix = count(" > ".join(section.path) + ": ")
    budget = max(16, max_tokens - prefix)
    units: list[tuple[int, int]] = []
    for s, e in sentence_spans(section.text, section.start):
        too_long = count(doc_text[s:e]) > budget
        units.extend(_hard_split(doc_text, s, e, count, budget) if too_long else [(s, e)])

    seen: dict[str, int] = {}
    for s, e in units:
        chunk = make("sentence", s, e, seen.get(doc_text[s:e], 0))
        seen[chunk.text] = seen.get(chunk.text, 0) + 1
        chunks.append(chunk)

    seen_windows: dict[str, int] = {}
    i = 0
    while i < len(units):
        j = i + 1
        while j < len(units) and count(doc_text[units[i][0] : units[j][1]]) <= budget:
            j += 1
        window = doc_text[units[i][0] : units[j - 1][1]]
        seen_windows[window] = seen_windows.get(window, 0) + 1  # ids from text, not position
        chunks.append(make("window", units[i][0], units[j - 1][1], seen_windows[window] - 1))
        if j >= len(units):
            break
        i = j - 1 if j - 1 > i else j  # one sentence of overlap, always moving forward
    return chunks


def chunk_sections(sections: Iterable[Section], doc_text: str, count: TokenCounter = approx_tokens,
                   max_tokens: int = 200) -> list[Chunk]:
    return [c for s in sections for c in chunk_section(s, doc_text, count, max_tokens)]
