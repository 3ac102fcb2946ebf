"""Document -> sections: the bundled document's 85 sections, Markdown levels, stable ids, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import BUNDLED_DOCUMENT
from index.sections import INTRODUCTION, Document, DocumentError, load_document, split_sections


def heading_lines(path: Path) -> list[str]:
    """The heading lines of the bundled document, read independently: non-empty lines that are
    not sentences (no terminal punctuation)."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and line[-1] not in ".!?:;,"]


@pytest.fixture(scope="module")
def bundled() -> tuple[Document, list]:
    doc = load_document(BUNDLED_DOCUMENT)
    return doc, split_sections(doc)


def md(tmp_path: Path, text: str, name: str = "notes.md") -> list:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return split_sections(load_document(path))


def plain(text: str, name: str = "doc.txt") -> list:
    return split_sections(Document(name=name, text=text, markdown=False))


# --- the bundled document ------------------------------------------------------------------
def test_bundled_document_has_85_sections_titled_exactly_as_its_heading_lines(bundled):
    _, sections = bundled
    headings = heading_lines(BUNDLED_DOCUMENT)
    assert len(headings) == 84
    assert len(sections) == 85
    assert [s.title for s in sections] == [INTRODUCTION, *headings]


def test_bundled_document_has_15_top_level_parts_plus_introduction(bundled):
    _, sections = bundled
    top = [s.title for s in sections if len(s.path) == 1]
    assert top == [
        "Introduction", "Company Background", "Value Proposition", "Customer Segments",
        "Revenue Model", "Cost Structure", "Key Activities", "Key Resources", "Key Partnerships",
        "Distribution Channels", "Customer Relationship Strategy", "Marketing Strategy Overview",
        "Competitive Advantages", "Challenges and Risks", "Future Outlook", "Conclusion",
    ]
    assert all(len(s.path) <= 2 for s in sections)


def test_bundled_subsections_hang_under_the_part_above_them(bundled):
    _, sections = bundled
    paths = {s.path for s in sections}
    assert ("Revenue Model", "Smartphones as the Anchor Business") in paths
    assert ("Key Resources",) in paths
    assert ("Key Resources", "Brand and Community Capital") in paths
    assert ("Conclusion",) in paths
    assert ("Company Background",) in paths
    assert ("Future Outlook", "Global Footprint and Compliance Readiness") in paths
    # every subsection's parent is the nearest top-level section before it
    parent = None
    for s in sections:
        if len(s.path) == 1:
            parent = s.title
        else:
            assert s.path == (parent, s.title)


def test_section_text_is_the_verbatim_document_span(bundled):
    doc, sections = bundled
    for s in sections:
        assert s.text == doc.text[s.start : s.end]
        assert s.text and s.text == s.text.strip()
        assert s.title not in s.text.splitlines()[0:1]  # the heading line is not part of the body
    assert "founded in 2010 by Lei Jun" in next(s for s in sections if s.title == "Company Background").text
    assert [s.start for s in sections] == sorted(s.start for s in sections)


def test_section_ids_are_unique_and_stable_on_reparse(bundled):
    doc, sections = bundled
    again = split_sections(load_document(BUNDLED_DOCUMENT))
    assert [s.id for s in sections] == [s.id for s in again]
    assert len({s.id for s in sections}) == 85


def test_section_ids_do_not_change_when_another_sections_text_changes(bundled):
    doc, sections = bundled
    background = next(s for s in sections if s.title == "Company Background")
    edited = doc.text[: background.start] + "Xiaomi was founded long ago." + doc.text[background.end :]
    after = split_sections(Document(doc.name, edited, markdown=False))
    assert [s.id for s in after] == [s.id for s in sections]
    changed = [a for a, b in zip(after, sections, strict=True) if a.text != b.text]
    assert [s.title for s in changed] == ["Company Background"]


# --- Markdown ----------------------------------------------------------------------------
def test_markdown_levels_give_paths(tmp_path):
    sections = md(tmp_path, "# Guide\nIntro body.\n## Setup\nInstall it.\n### Linux\nUse apt.\n"
                            "## Usage\nRun it.\n# Appendix\nMore.\n")
    assert [s.path for s in sections] == [
        ("Guide",), ("Guide", "Setup"), ("Guide", "Setup", "Linux"), ("Guide", "Usage"), ("Appendix",),
    ]
    assert [s.text for s in sections] == ["Intro body.", "Install it.", "Use apt.", "Run it.", "More."]


def test_markdown_setext_headings(tmp_path):
    sections = md(tmp_path, "Title\n=====\nTop text.\n\nPart\n----\nPart text.\n")
    assert [(s.title, s.path) for s in sections] == [("Title", ("Title",)), ("Part", ("Title", "Part"))]
    assert sections[1].text == "Part text."


def test_markdown_headings_inside_code_fences_are_ignored(tmp_path):
    text = "# Real\nSee:\n```bash\n# not a heading\nls\n```\n~~~\n## nor this\n~~~\n## Next\nx\n"
    sections = md(tmp_path, text)
    assert [s.title for s in sections] == ["Real", "Next"]
    assert "# not a heading" in sections[0].text and "## nor this" in sections[0].text


def test_markdown_closing_hashes_are_stripped_but_a_hash_inside_the_title_is_kept(tmp_path):
    sections = md(tmp_path, "# Learn C#\nText.\n## Tips ##\nMore.\n")
    assert [s.title for s in sections] == ["Learn C#", "Tips"]


def test_markdown_text_before_first_heading_is_introduction(tmp_path):
    sections = md(tmp_path, "Some opening words.\n\n# First\nBody.\n")
    assert [(s.title, s.path, s.text) for s in sections] == [
        (INTRODUCTION, (INTRODUCTION,), "Some opening words."), ("First", ("First",), "Body."),
    ]


# --- plain text rules --------------------------------------------------------------------
def test_plain_text_without_standard_part_names_is_all_top_level():
    sections = plain("Opening line here.\nApples\nThey are red.\nPears\nThey are green.\nPlums\nPurple.\n")
    assert [s.path for s in sections] == [(INTRODUCTION,), ("Apples",), ("Pears",), ("Plums",)]


def test_plain_text_numbered_headings_nest_by_numbering():
    sections = plain("1 Intro\nHello there.\n1.1 Scope\nNarrow.\n1.2 Detail\nFine.\n2 Next\nDone.\n")
    assert [s.path for s in sections] == [
        ("1 Intro",), ("1 Intro", "1.1 Scope"), ("1 Intro", "1.2 Detail"), ("2 Next",),
    ]


def test_duplicate_heading_gives_two_sections_with_distinct_ids():
    sections = plain("Notes\nFirst body.\nNotes\nSecond body.\n")
    assert [s.title for s in sections] == ["Notes", "Notes"]
    assert sections[0].id != sections[1].id
    assert [s.text for s in sections] == ["First body.", "Second body."]


def test_document_with_only_headings():
    text = "Alpha\nBeta\nGamma\n"
    sections = plain(text)
    assert [s.title for s in sections] == ["Alpha", "Beta", "Gamma"]
    assert all(s.text == "" and s.text == text[s.start : s.end] for s in sections)


def test_document_without_headings_is_one_introduction_section():
    text = "Just one paragraph. It has two sentences.\n"
    sections = plain(text)
    assert len(sections) == 1
    assert sections[0].title == INTRODUCTION and sections[0].text == text.strip()


# --- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, content, fragment",
    [
        ("missing.txt", None, "no such file"),
        ("folder.txt", "DIR", "not a file"),
        ("blob.txt", b"abc\x00\x01def", "binary"),
        ("latin.txt", "Caf\xe9 cr\xe8me\n".encode("latin-1"), "UTF-8"),
        ("windows.txt", "Caf\xe9 cr\xe8me\n".encode("utf-16"), "UTF-16 text (Windows \"Unicode\"); save it as UTF-8"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"  \n\n ", "empty"),
        ("paper.pdf", b"%PDF-1.4 text", "unsupported"),
    ],
)
def test_bad_documents_raise_an_error_naming_the_file(tmp_path, name, content, fragment):
    path = tmp_path / name
    if content == "DIR":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(DocumentError) as err:
        load_document(path)
    assert name in str(err.value)
    assert fragment.lower() in str(err.value).lower()


def test_markdown_fence_is_closed_only_by_a_fence_of_the_same_kind(tmp_path):
    sections = md(tmp_path, "# Real\n````\n~~~\n# inside\n```\n````\n# After\nx\n")
    assert [s.title for s in sections] == ["Real", "After"]


def test_markdown_front_matter_is_no_section_and_offsets_stay_verbatim(tmp_path: Path) -> None:
    text = "---\ntitle: Staff notes\nowner: HR\n---\n# Leave\n\nStaff get 25 days of leave.\n"
    sections = md(tmp_path, text)
    assert [s.title for s in sections] == ["Leave"]
    assert "title:" not in " ".join(s.text for s in sections)
    assert text[sections[0].start:sections[0].end] == sections[0].text  # quotes stay verbatim


def test_a_document_over_the_size_limit_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("index.sections.MAX_DOCUMENT_BYTES", 1024)
    big = tmp_path / "big.txt"
    big.write_text("Word is here. " * 200, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"big.txt: 0.0 MB, over the 0 MB a document may have; split it"):
        load_document(big)


def test_a_rule_at_the_top_of_a_markdown_file_is_no_front_matter(tmp_path: Path) -> None:
    sections = md(tmp_path, "---\n# Leave\nStaff get 25 days of leave.\n\n---\n# Pay\nPaid monthly.\n")
    leave = next(s for s in sections if s.title == "Leave")
    assert "25 days" in leave.text and "Pay" in [s.title for s in sections]
