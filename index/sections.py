"""Document -> sections: read a .txt/.md file and split it at its headings.

Usage::

    doc = load_document(Path("documents/xiaomi-business-model.txt"))
    sections = split_sections(doc)
    sections[1].title, sections[1].path   # "Company Background", ("Company Background",)

Plain text has no heading levels, so levels come from (in order): numbering ("2.1 Pricing"),
then a lexicon of the standard parts of a report (Introduction, Value Proposition, Revenue
Model, Risks, Conclusion, ...). When a plain-text document uses such part names, every other
heading belongs to the part above it; when it does not, all headings are top level. Markdown
uses its own ``#`` levels (and setext underlines).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown")
INTRODUCTION = "Introduction"


class DocumentError(ValueError):
    """A document cannot be read or indexed; the message names the file."""


@dataclass(frozen=True)
class Document:
    name: str  # file name, as cited
    text: str
    markdown: bool


@dataclass(frozen=True)
class Section:
    id: str
    document: str
    title: str  # the heading exactly as in the document ("Introduction" for opening text)
    path: tuple[str, ...]  # titles from the top-level part down to this section
    text: str  # body text, verbatim: document.text[start:end]
    start: int
    end: int

    @property
    def level(self) -> int:
        return len(self.path)


MAX_DOCUMENT_BYTES = 5 * 1024 * 1024  # about 9 minutes of embedding on 2 CPU cores
_YAML_LINE = re.compile(r"^(?:[\w.-]+\s*:(?:\s|$)|\s+\S|-\s|#)")  # "title: x", an indented or list line, a comment
_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(?:.*\n)*?(?:---|\.\.\.)[ \t]*(?:\n|\Z)")


def load_document(path: Path) -> Document:
    """Read a UTF-8 .txt or .md file; raise DocumentError naming the file otherwise. A Markdown
    file's YAML front matter ("---\ntitle: ...\n---") is blanked out, not read as a section."""
    if not path.exists():
        raise DocumentError(f"{path}: no such file")
    if not path.is_file():
        raise DocumentError(f"{path}: not a file")
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocumentError(
            f"{path}: unsupported file type {path.suffix or '(none)'}; use .txt or .md"
        )
    size = path.stat().st_size
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentError(f"{path}: {size / 1048576:.1f} MB, over the {MAX_DOCUMENT_BYTES // 1048576} MB a document "
                            f"may have; split it into several documents")
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{path}: UTF-16 text (Windows \"Unicode\"); save it as UTF-8 and index again")
    if b"\x00" in raw:
        raise DocumentError(f"{path}: binary file (contains NUL bytes), not a text document")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(
            f"{path}: not valid UTF-8 (byte {exc.start}); save it as UTF-8 and index again"
        ) from None
    markdown = path.suffix.lower() != ".txt"
    front = _FRONT_MATTER.match(text) if markdown else None
    if front and all(_YAML_LINE.match(line) for line in front.group(0).splitlines()[1:-1] if line.strip()):
        # blanked, not cut: every offset into the text stays as it was
        text = re.sub(r"[^\n]", " ", front.group(0)) + text[front.end():]
    if not text.strip():
        raise DocumentError(f"{path}: the document is empty")
    return Document(name=path.name, text=text, markdown=markdown)


# --- heading detection ---------------------------------------------------------

_SENTENCE_ENDS = frozenset(".!?;:,…\"”'’)")  # a line ending so is no heading
_MAX_HEADING_CHARS = 100
_MAX_HEADING_WORDS = 14
_NUMBERED = re.compile(r"^(\d+(?:\.\d+)*)\.?\s+\S")
_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")  # "## Learn C#" keeps its "#"
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# Layout marks shared by the chunker and the catalog: a list item's bullet, and an FAQ
# answer's "A:" ("A1.", "**Answer:**").
BULLET_MARK = r"[-*•+]"
ANSWER_MARK = r"[*_]{0,2}(?:A\d{0,3}|(?i:answer))[*_]{0,2}\s*[:.)][*_]{0,2}\s*"
_LIST_ITEM = re.compile(rf"^\s*({BULLET_MARK}|\d+[)])\s")


def is_row(line: str) -> bool:
    """Whether a line (or a sentence) is a Markdown table row ("| London | £55 |")."""
    return line.lstrip().startswith("|")


# Standard parts of business and analysis reports; a plain-text heading with one of these
# names opens a top-level part, and the headings after it are its subsections.
_PART_NAMES = frozenset(
    name.strip()
    for name in """
    introduction|overview|executive summary|summary|abstract|background|company background
    |company overview|company profile|history|about|mission|vision|mission and vision
    |value proposition|value propositions|customer segments|target customers|target market
    |revenue model|revenue streams|business model|cost structure|key activities|key resources
    |key partnerships|key partners|channels|distribution channels|customer relationships
    |customer relationship|customer relationship strategy|marketing strategy|marketing
    |competitive advantages|competitive advantage|competition|competitive landscape
    |strengths|weaknesses|opportunities|threats|swot analysis|swot|challenges|risks
    |challenges and risks|risks and challenges|risk factors|future outlook|outlook
    |conclusion|conclusions|recommendations|references|appendix|methodology|results
    |discussion|findings|financial performance|financials|financial overview
    |products and services|strategy|market analysis|operations|governance|sustainability
    """.split("|")
)
_PART_SUFFIXES = (" overview", " analysis", " summary")


def _normalise_title(title: str) -> str:
    title = _NUMBERED.sub(lambda m: m.group(0)[len(m.group(1)) :], title).strip(" .")
    title = title.replace("&", "and").lower()
    return re.sub(r"\s+", " ", title).strip()


def is_part_name(title: str) -> bool:
    """True when a heading names a standard top-level part of a report."""
    norm = _normalise_title(title)
    if norm in _PART_NAMES:
        return True
    return any(norm.endswith(s) and norm[: -len(s)] in _PART_NAMES for s in _PART_SUFFIXES)


def _is_plain_heading(line: str) -> bool:
    stripped = line.strip()
    if not stripped or len(stripped) > _MAX_HEADING_CHARS:
        return False
    if len(stripped.split()) > _MAX_HEADING_WORDS:
        return False
    # "**Can I bring my dog?**": a question in bold is no heading.
    if stripped.rstrip("*_ \t")[-1:] in _SENTENCE_ENDS or _LIST_ITEM.match(line):
        return False
    if not re.search(r"[A-Za-z\u00C0-\uFFFF]", stripped):
        return False
    first = stripped[0]
    return first.isupper() or first.isdigit()


@dataclass(frozen=True)
class _Heading:
    title: str
    level: int
    line_start: int  # offset of the heading line
    body_start: int  # offset just after the heading line (and its underline)


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.splitlines(keepends=True):
        out.append((pos, line))
        pos += len(line)
    return out


def _markdown_headings(text: str) -> list[_Heading]:
    headings: list[_Heading] = []
    lines = _lines(text)
    fence = ""  # the open code fence ("```" or "~~~~"...), closed only by a like fence
    for i, (pos, line) in enumerate(lines):
        m = _FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence) \
                    and not line.strip().strip(fence[0]):
                fence = ""
            continue
        if m:
            fence = m.group(1)
            continue
        m = _MD_HEADING.match(line.rstrip("\r\n"))
        if m:
            headings.append(_Heading(m.group(2), len(m.group(1)), pos, pos + len(line)))
            continue
        nxt = lines[i + 1][1].strip() if i + 1 < len(lines) else ""
        if line.strip() and nxt and set(nxt) <= {"="} | {"-"} and len(set(nxt)) == 1 and len(nxt) >= 3:
            level = 1 if nxt[0] == "=" else 2
            end = lines[i + 1][0] + len(lines[i + 1][1])
            headings.append(_Heading(line.strip(), level, pos, end))
    return headings


def _plain_headings(text: str) -> list[_Heading]:
    found: list[tuple[str, int, int]] = []
    for pos, line in _lines(text):
        if _is_plain_heading(line):
            found.append((line.strip(), pos, pos + len(line)))
    if not found:
        return []
    numbered = [_NUMBERED.match(t) for t, _, _ in found]
    if all(numbered):
        return [
            _Heading(t, m.group(1).count(".") + 1, s, e)  # type: ignore[union-attr]
            for (t, s, e), m in zip(found, numbered, strict=True)
        ]
    parts = [is_part_name(t) for t, _, _ in found]
    if not any(parts):
        return [_Heading(t, 1, s, e) for t, s, e in found]
    headings, seen_part = [], False
    for (title, s, e), part in zip(found, parts, strict=True):
        seen_part = seen_part or part
        headings.append(_Heading(title, 1 if part or not seen_part else 2, s, e))
    return headings


def _span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) to exclude surrounding white space."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def section_id(document: str, path: tuple[str, ...], occurrence: int) -> str:
    key = "\x1f".join((document, *path, str(occurrence)))
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:16]


def split_sections(doc: Document) -> list[Section]:
    """Split a document into sections: opening text ("Introduction") plus one per heading."""
    text = doc.text
    headings = _markdown_headings(text) if doc.markdown else _plain_headings(text)
    sections: list[Section] = []
    occurrences: dict[tuple[str, ...], int] = {}

    def add(title: str, path: tuple[str, ...], start: int, end: int) -> None:
        start, end = _span(text, start, end)
        n = occurrences.get(path, 0)
        occurrences[path] = n + 1
        sid = section_id(doc.name, path, n)
        sections.append(Section(sid, doc.name, title, path, text[start:end], start, end))

    first = headings[0].line_start if headings else len(text)
    if text[:first].strip() or not headings:
        add(INTRODUCTION, (INTRODUCTION,), 0, first)

    stack: list[tuple[int, str]] = []
    for i, h in enumerate(headings):
        while stack and stack[-1][0] >= h.level:
            stack.pop()
        stack.append((h.level, h.title))
        end = headings[i + 1].line_start if i + 1 < len(headings) else len(text)
        add(h.title, tuple(t for _, t in stack), h.body_start, end)
    return sections
