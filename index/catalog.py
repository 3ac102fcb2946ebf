"""A read-only, in-memory view of one index generation: sections, their sentences, BM25.

The retriever searches Chroma for nearest chunks and reads section text, sentence vectors and
BM25 scores from here. A catalog is built from the store's records, so every replica that
shares a Chroma server builds the same one.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.sections import ANSWER_MARK, BULLET_MARK, is_row
from index.store import ChromaStore, Record

_WORD = re.compile(r"[a-z0-9]+(?:[&'][a-z0-9]+)*")
_NAME_WORD = re.compile(r"\b[A-Z][A-Za-z0-9&-]+")
STOPWORDS = frozenset(
    """a an the and or but of to in on at for from by with about as into over under than then
    is are was were be been being do does did has have had having it its this that these
    those there their they them he she his her we our you your i me my what which who whom whose
    when where why how can could would should will shall may might must not no yes if so such
    also just only very more most much many any some all each other own same both few s t
    tell say said says give show explain describe please document report text""".split()
)


# A clitic ends a word: "company's" and "company’s" are "company", "what's" is "what"; a negation
# keeps its "not" ("doesn't" is "does not", as a phrase such as "doesn't work" needs).
_CLITIC = re.compile(r"'(?:s|re|ve|ll|d|m)$")
_NEGATED = {"can't": "can", "won't": "will", "shan't": "shall"}


def words(text: str) -> list[str]:
    """Lower-case word tokens (used by BM25, overlap scores and the rewriter), without clitics, so
    that a straight and a curly apostrophe give the same words."""
    out: list[str] = []
    for w in _WORD.findall(text.lower().replace("’", "'")):
        if w.endswith("n't"):
            out += [_NEGATED.get(w, w[:-3]), "not"]
        else:
            out.append(_CLITIC.sub("", w) if "'" in w else w)
    return out


# A list item ("- ", "* ", "• ", "1. ", "a) ") or a table row ("| ... |").
_STEP_MARK = r"\d{1,2}[.)]\s"
STEP = re.compile(rf"^\s*{_STEP_MARK}")  # a numbered step ("1. Open the portal.")
LIST_ITEM = re.compile(rf"^\s*(?:{BULLET_MARK}\s|{_STEP_MARK}|[a-z][.)]\s|\|)")
_DIVIDER_CELL = re.compile(r":?-+:?")


def asks(text: str) -> bool:
    """Whether a sentence is a question ("Can I ...?", "**Can I ...?**")."""
    return text.rstrip(" *_").endswith("?")


def is_divider(row: str) -> bool:
    """A Markdown table's "|---|:-:|" row; not a row of "| - |" placeholders (a dash with
    spaces around it, no colon)."""
    cells = [c for c in row.strip().strip("|").split("|")]
    return bool(cells) and all(_DIVIDER_CELL.fullmatch(c.strip()) for c in cells) and not all(
        c.strip() == "-" and c != "-" for c in cells)


# An FAQ entry: its question ("Q: Can I ...?", "Question 3: ...") and its answer ("A: Yes. ...",
# "**Answer:** ..."); or a line that is one question ("**Can I bring my dog?**") and the text
# after it.
FAQ_QUESTION = re.compile(r"^[*_]{0,2}(?:Q|(?i:question)\s*\d{0,3})[*_]{0,2}\s*[:.)][*_]{0,2}\s")
_FAQ_NUMBERED = re.compile(r"^[*_]{0,2}Q\d{1,3}[*_]{0,2}\s*[:.)][*_]{0,2}\s")  # "Q1: ...?", not "Q1: Revenue rose"
FAQ_ANSWER = re.compile(rf"^{ANSWER_MARK}")

LEXICAL_VERSION = "v6"  # bump when tokenisation changes: persisted BM25 indexes are rebuilt


def stem(word: str) -> str:
    """A light suffix stripper so that 'partners', 'partnership', 'partnering' meet."""
    for suffix in ("ships", "ship", "ations", "ation", "ings", "ing", "ies", "ed", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            root = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            # "getting", "planned": one of a doubled last letter ("gett" -> "get").
            if suffix in ("ing", "ed") and len(root) <= 5 and root[-1] == root[-2] and root[-1] not in "lsz":
                root = root[:-1]
            return _without_e(root)
    if word.endswith("es") and len(word) >= 5 and word[-3] in "sxz" or word.endswith(("ches", "shes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss") and len(word) >= 4:
        return _without_e(word[:-1])
    return _without_e(word)


def _without_e(root: str) -> str:
    """"manage", "manages", "managed", "managing" all meet at "manag"."""
    return root[:-1] if root.endswith("e") and len(root) > 3 and not root.endswith("ee") else root


def content_terms(text: str) -> list[str]:
    return [stem(w) for w in words(text) if w not in STOPWORDS and len(w) > 1]


@dataclass
class SentenceView:
    id: str
    section_id: str
    text: str
    start: int
    end: int


@dataclass
class SectionView:
    id: str
    document: str
    title: str
    path: tuple[str, ...]
    text: str
    start: int
    end: int
    sentences: list[int] = field(default_factory=list)  # indices into Catalog.sentences


class Catalog:
    """Sections and sentences of one generation, with sentence vectors and a BM25 index."""

    def __init__(self, records: list[Record], generation: str | None) -> None:
        self.generation = generation
        self.records = len(records)
        self.sections: dict[str, SectionView] = {}
        self.sentences: list[SentenceView] = []
        self.position: list[int] = []  # each sentence's place in its section's list
        vectors: list[np.ndarray] = []
        self.title_vectors: dict[str, np.ndarray] = {}
        for r in records:
            m = r.metadata
            if m.get("kind") == "title":
                self.sections[m["section_id"]] = SectionView(
                    m["section_id"], m["document"], m["title"], tuple(m["path"]), r.text,
                    int(m["start"]), int(m["end"]),
                )
                self.title_vectors[m["section_id"]] = r.embedding
        order = sorted(
            (r for r in records if r.metadata.get("kind") == "sentence"),
            key=lambda r: (r.metadata["document"], int(r.metadata["start"])),
        )
        for r in order:
            m = r.metadata
            if m["section_id"] not in self.sections:
                continue
            self.position.append(len(self.sections[m["section_id"]].sentences))
            self.sections[m["section_id"]].sentences.append(len(self.sentences))
            self.sentences.append(SentenceView(r.id, m["section_id"], r.text, int(m["start"]), int(m["end"])))
            vectors.append(r.embedding)
        # A sentence that goes on from a list item on the item's own line ("1. Check the list. If
        # not, see section 8."): part of that item, for its lead-in and its procedure.
        self.host: list[int | None] = [None] * len(self.sentences)
        # A table row's header: the row above its table's "|---|" divider.
        self.header: list[int | None] = [None] * len(self.sentences)
        for section in self.sections.values():
            header = None
            for prev, i in zip([None, *section.sentences], section.sentences, strict=False):
                text = self.sentences[i].text
                gap = "\n\n" if prev is None else \
                    section.text[self.sentences[prev].end - section.start:self.sentences[i].start - section.start]
                if prev is not None and "\n" not in gap and not LIST_ITEM.match(text):
                    self.host[i] = prev if LIST_ITEM.match(self.sentences[prev].text) else self.host[prev]
                if not is_row(text) or gap.count("\n") >= 2:
                    header = None  # a table ends at a line that is no row, or a blank line
                if is_divider(text):
                    above = None if prev is None else self.sentences[prev].text
                    header = prev if above and is_row(above) and not is_divider(above) and \
                        gap.count("\n") < 2 else None
                elif is_row(text) and header is not None:
                    self.header[i] = header
        dim = vectors[0].shape[0] if vectors else 1
        self.sentence_vectors = np.stack(vectors) if vectors else np.zeros((0, dim), np.float32)
        self.sentence_index = {s.id: i for i, s in enumerate(self.sentences)}
        # Section centroid: the normalised mean of its sentence vectors and its heading vector.
        self.centroid_ids = list(self.sections)
        rows = []
        for sid in self.centroid_ids:
            parts = [self.sentence_vectors[i] for i in self.sections[sid].sentences] + [self.title_vectors[sid]]
            mean = np.mean(parts, axis=0)
            rows.append(mean / (np.linalg.norm(mean) or 1.0))
        self.section_centroids = np.stack(rows).astype(np.float32) if rows else np.zeros((0, dim), np.float32)
        # Document order, for "next section" and for stable tie-breaking.
        self.order = {sid: i for i, sid in enumerate(
            sorted(self.sections, key=lambda k: (self.sections[k].document, self.sections[k].start))
        )}
        # Array views for vectorised fusion, all in the order of ``section_ids``.
        self.section_ids = list(self.sections)
        self.section_pos = {sid: i for i, sid in enumerate(self.section_ids)}
        self.sentence_section = np.array([self.section_pos[s.section_id] for s in self.sentences], dtype=np.int64)
        self.order_array = np.array([self.order[sid] for sid in self.section_ids], dtype=np.int64)
        self._lexical: LexicalIndex | None = None
        self._stems: set[str] | None = None
        self._word_counts: Counter[str] | None = None
        self._subjects: set[str] | None = None
        self._phrases: str | None = None
        self._parts: list[tuple[SectionView, set[str]]] | None = None
        self._faq: dict[int, tuple[list[int], list[int]]] | None = None
        self._subject_forms: set[str] | None = None

    def __len__(self) -> int:
        return len(self.sections)

    @property
    def lexical(self) -> LexicalIndex:
        if self._lexical is None:
            self._lexical = LexicalIndex(self)
        return self._lexical

    @property
    def stems(self) -> set[str]:
        """Stemmed content words of every section (heading path and body)."""
        if self._stems is None:
            self._stems = set()
            for sec in self.sections.values():
                self._stems.update(content_terms(" ".join(sec.path) + " " + sec.text))
        return self._stems

    @property
    def word_counts(self) -> Counter[str]:
        """How often each word (lower case, as :func:`words` splits) occurs in the sections'
        heading paths and bodies: the documents' vocabulary, for the evidence check and the
        slip mending."""
        if self._word_counts is None:
            self._word_counts = Counter()
            for sec in self.sections.values():
                self._word_counts.update(words(" ".join(sec.path) + " " + sec.text))
        return self._word_counts

    def lead_in(self, index: int) -> int | None:
        """The sentence a list item or table row hangs from ("Mileage is paid at the following
        rates:" for "- 25p per mile after that"): the last sentence before it in its section that
        is neither; None for a sentence that is no item, or an item with nothing before it."""
        sentence = self.sentences[index]
        if not LIST_ITEM.match(sentence.text):
            return None
        order = self.sections[sentence.section_id].sentences
        at = self.position[index]
        # (The rest of an item's line is part of the item, unless it leads into a list of its own,
        # indented under it: "1. Get approval. Then attach the following:" over "   - the approval
        # email", not over "2. Send the request.".)
        return next((order[j] for j in range(at - 1, -1, -1)
                     if not LIST_ITEM.match(text := self.sentences[order[j]].text)
                     and ((host := self.host[order[j]]) is None
                          or text.rstrip().endswith(":") and self._indent(index) > self._indent(host))), None)

    def _indent(self, index: int) -> int:
        """How far a sentence's line is indented (spaces before it on its line)."""
        sentence = self.sentences[index]
        section = self.sections[sentence.section_id]
        at = sentence.start - section.start
        line = section.text[section.text.rfind("\n", 0, at) + 1:at]
        return len(line) - len(line.lstrip())

    def table_header(self, index: int) -> int | None:
        """The header row of the table a row belongs to ("| City | Meals | Hotel cap |" for "|
        Edinburgh | £45 | £110 |"): the row above its "|---|" divider. None for a sentence that
        is no table row, for the header and the divider themselves, and for a table without a
        divider."""
        return self.header[index]

    def items(self, index: int) -> list[int]:
        """The list items or table rows a sentence ending in ":" leads into (those right after it;
        a table's "|---|" divider left out); empty for any other sentence."""
        sentence = self.sentences[index]
        if not sentence.text.rstrip().endswith(":") or LIST_ITEM.match(sentence.text):
            return []
        order = self.sections[sentence.section_id].sentences
        at = self.position[index]
        out = []
        for i in order[at + 1:]:
            if self.host[i] is not None:  # the rest of an item's line ("If not, see section 8.")
                continue
            if not LIST_ITEM.match(self.sentences[i].text):
                break
            if not is_divider(self.sentences[i].text):
                out.append(i)
        return out

    def _question_line(self, index: int) -> bool:
        """A sentence that is a line of its own and a question ("**Can I bring my dog?**", "1.
        **Can I work from abroad?**")."""
        sentence = self.sentences[index]
        if not asks(sentence.text):
            return False
        section = self.sections[sentence.section_id]
        at, end = sentence.start - section.start, sentence.end - section.start
        before = section.text[max(0, at - 80):at].rstrip(" \t")
        after = section.text[end:end + 80].lstrip(" \t*_")
        return (before.endswith("\n") or not section.text[:at].strip()) and (not after or after.startswith("\n"))

    def _paragraph_break(self, a: int, b: int) -> bool:
        """Whether a blank line lies between sentences ``a`` and ``b`` of one section."""
        section = self.sections[self.sentences[a].section_id]
        gap = section.text[self.sentences[a].end - section.start:self.sentences[b].start - section.start]
        return gap.count("\n") >= 2

    def _asks(self, order: list[int], lines: list[bool], at: int) -> bool:
        """Whether the sentence at ``at`` of a section (``lines``: which of its sentences are
        question lines) is a question line with its answer under it: not one of a checklist (a
        question after another question), and followed by a line that is no question (nor,
        under a list item, another item)."""
        if not lines[at] or at + 1 >= len(order) or (at > 0 and lines[at - 1]) or lines[at + 1]:
            return False
        text, after = self.sentences[order[at]].text, self.sentences[order[at + 1]].text
        return not (LIST_ITEM.match(text) and LIST_ITEM.match(after))

    def faq_entry(self, index: int) -> tuple[list[int], list[int]] | None:
        """The FAQ entry a sentence belongs to, as (its question's sentences, its answer's): from a
        "Q:" sentence to the first "A:" sentence, and on to the next question; or, in a section
        with two or more of them, from a line that is one question ("**Can I bring my dog?**",
        with the answer under it) through the paragraph after it (and any list it leads into).
        None for a sentence outside an entry, or a "Q:" with no "A:"."""
        if self._faq is None:
            faq: dict[int, tuple[list[int], list[int]]] = {}  # built whole, then published
            for section in self.sections.values():
                order = section.sentences
                marked = [at for at, i in enumerate(order) if FAQ_QUESTION.match(text := self.sentences[i].text)
                          or (_FAQ_NUMBERED.match(text) and asks(text))]
                # In a procedure ("1. Open the portal." "2. Is the claim over £500?") a step that
                # asks is no FAQ question.
                steps = any(LIST_ITEM.match(t := self.sentences[i].text) and not asks(t) for i in order)
                question_lines = [self._question_line(i) for i in order]
                lines = [at for at in range(len(order)) if at not in marked and self._asks(order, question_lines, at)
                         and not (steps and LIST_ITEM.match(self.sentences[order[at]].text))]
                starts = sorted(marked + (lines if len(lines) >= 2 else []))
                for start, end in zip(starts, [*starts[1:], len(order)], strict=False):
                    if start in marked:
                        split = next((at for at in range(start + 1, end)
                                      if FAQ_ANSWER.match(self.sentences[order[at]].text)), None)
                    else:
                        split = start + 1
                        # The answer is the paragraph after the question (and a list it leads into).
                        for at in range(start + 2, end):
                            now, was = self.sentences[order[at]].text, self.sentences[order[at - 1]].text
                            if self._paragraph_break(order[at - 1], order[at]) and not (
                                    LIST_ITEM.match(now) and (was.rstrip().endswith(":") or LIST_ITEM.match(was))):
                                end = at
                                break
                    if split is None or split >= end:
                        continue
                    entry = (order[start:split], order[split:end])
                    for i in order[start:end]:
                        faq[i] = entry
            self._faq = faq
        return self._faq.get(index)

    def uses_phrase(self, phrase: str) -> bool:
        """Whether a section (heading path or body) has these words in a row ("go public")."""
        if self._phrases is None:
            self._phrases = "\n".join(" " + " ".join(words(" ".join(sec.path) + " " + sec.text)) + " "
                                       for sec in self.sections.values())
        return f" {' '.join(words(phrase))} " in self._phrases

    @property
    def parts(self) -> list[tuple[SectionView, set[str]]]:
        """Sections with an opening of their own and two or more subsections, in document order,
        each with its heading's content terms: the parts a broad question may name."""
        if self._parts is None:
            children: Counter[tuple[str, tuple[str, ...]]] = Counter(
                (s.document, s.path[:-1]) for s in self.sections.values() if len(s.path) > 1)
            self._parts = [(s, set(content_terms(s.title))) for s in sorted(self.sections.values(),
                                                                            key=lambda s: self.order[s.id])
                           if s.sentences and children[(s.document, s.path)] >= 2]
        return self._parts

    def subsections(self, part: SectionView) -> list[SectionView]:
        """The sections right under ``part`` that have sentences, in document order."""
        return sorted((s for s in self.sections.values() if s.document == part.document and s.sentences
                       and len(s.path) == len(part.path) + 1 and s.path[:-1] == part.path),
                      key=lambda s: self.order[s.id])

    @property
    def subjects(self) -> set[str]:
        """What the documents are about (e.g. {"xiaomi"}): see :func:`subject_names`."""
        if self._subjects is None:
            self._subjects = subject_names(self)
        return self._subjects

    @property
    def subject_forms(self) -> set[str]:
        """The subjects and their stems ({"acme", "acm"}): words that name what the documents
        are about, as a question or a stemmed term writes them."""
        if self._subject_forms is None:
            self._subject_forms = set(self.subjects) | {stem(s) for s in self.subjects}
        return self._subject_forms

    def attach_lexical(self, bm25_dir: Path) -> None:
        """Use the BM25 index persisted for this generation under ``bm25_dir`` (built if absent);
        other generations' BM25 folders are removed."""
        if not self.generation:
            return
        bm25_dir.mkdir(parents=True, exist_ok=True)
        name = f"{self.generation}-{LEXICAL_VERSION}"
        self._lexical = LexicalIndex(self, bm25_dir / name)
        for old in bm25_dir.iterdir():
            if old.name != name and ".tmp" not in old.name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, store: ChromaStore) -> Catalog:
        records = store.records(with_embeddings=True)
        return cls(records, store.generation)


# "the company" in a question about a report on one company names that company: like the subject's
# own name it tells no section from another. ("the business" and "the group" are left alone: they
# head compounds such as "the business model".)
SUBJECT_STAND_IN = re.compile(r"\b(?:the|this|that) (?:company|firm|corporation|brand)(?:['’]s)?\b", re.I)


def subject_names(catalog: Catalog, share: float = 0.25) -> set[str]:
    """Names the documents are about: capitalised words (lower-cased) found in at least ``share``
    of the sections. They tell no section from another, and are never the answer to "which
    company / what name"."""
    counts: dict[str, int] = {}
    for section in catalog.sections.values():
        for name in {w.lower() for w in _NAME_WORD.findall(section.text)} - STOPWORDS:
            counts[name] = counts.get(name, 0) + 1
    need = max(2, share * len(catalog.sections))
    return {name for name, n in counts.items() if n >= need}


class LexicalIndex:
    """BM25 (bm25s) over sentences and over whole sections (heading path + body)."""

    def __init__(self, catalog: Catalog, folder: Path | None = None) -> None:
        """Build BM25 for ``catalog``; with ``folder``, load it from there if saved, else save it."""
        import bm25s

        self.section_ids = list(catalog.sections)
        self.n_sentences = len(catalog.sentences)
        if folder is not None and (folder / "sections" / "params.index.json").exists():
            self.sentences = bm25s.BM25.load(str(folder / "sentences"), show_progress=False, verbosity=0)
            self.sections = bm25s.BM25.load(str(folder / "sections"), show_progress=False, verbosity=0)
            return
        # A table row carries its header's words ("hotel cap" for "| Edinburgh | £45 | £110 |"),
        # as every sentence carries its heading's.
        sent_docs = [
            content_terms(s.text) + content_terms(" ".join(catalog.sections[s.section_id].path))
            + (content_terms(catalog.sentences[h].text) if (h := catalog.table_header(i)) is not None else [])
            for i, s in enumerate(catalog.sentences)
        ]
        sec_docs = [
            content_terms(" ".join(catalog.sections[sid].path)) * 2 + content_terms(catalog.sections[sid].text)
            for sid in self.section_ids
        ]
        self.n_sentences = len(sent_docs)
        self.sentences = bm25s.BM25()
        self.sections = bm25s.BM25()
        if sent_docs:
            self.sentences.index([d or ["_"] for d in sent_docs], show_progress=False)
            self.sections.index([d or ["_"] for d in sec_docs], show_progress=False)
            if folder is not None:
                tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
                shutil.rmtree(tmp, ignore_errors=True)
                self.sentences.save(str(tmp / "sentences"), show_progress=False)
                self.sections.save(str(tmp / "sections"), show_progress=False)
                try:
                    tmp.rename(folder)  # complete or absent, never half-written
                except OSError:  # another process saved the same generation first
                    shutil.rmtree(tmp, ignore_errors=True)

    def score(self, terms: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """BM25 scores of every sentence and every section (in catalog order) for ``terms``."""
        if not terms or not self.n_sentences:
            return np.zeros(self.n_sentences, np.float32), np.zeros(len(self.section_ids), np.float32)
        return (
            np.asarray(self.sentences.get_scores(terms), dtype=np.float32),
            np.asarray(self.sections.get_scores(terms), dtype=np.float32),
        )
