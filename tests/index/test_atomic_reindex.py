"""Nothing lost, nothing half-built: a killed, a concurrent and a failed re-index.

A build writes a new Chroma collection beside the live one and moves the pointer only when it
is complete, so a SIGKILL mid-build leaves the previous index answering, readers see the old or
the new generation (never an error or a mix), and a bad file changes nothing.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.settings import BUNDLED_DOCUMENT, Settings

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
FOUNDING = "In what year was Xiaomi founded, and by whom?"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> Path:
    """A data dir holding a good index of the bundled document (copied per test)."""
    from index.pipeline import index_documents
    from index.store import build_store

    data = tmp_path_factory.mktemp("good-index")
    index_documents([BUNDLED_DOCUMENT], build_store(Settings(data_dir=data)), real_embedder)
    return data


@pytest.fixture
def data_dir(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(template, target)
    return target


def env_for(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, ASSISTANT_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1",
               TOKENIZERS_PARALLELISM="false", ANONYMIZED_TELEMETRY="False")
    env.pop("ASSISTANT_CHROMA_URL", None)
    return env


def collections(data_dir: Path) -> set[str]:
    """Collection names, read straight from Chroma's SQLite (read-only, safe beside a writer)."""
    con = sqlite3.connect(f"file:{data_dir / 'chroma' / 'chroma.sqlite3'}?mode=ro", uri=True, timeout=5)
    try:
        return {row[0] for row in con.execute("SELECT name FROM collections")}
    finally:
        con.close()


def make_assistant(data_dir: Path, embedder):
    from assistant.retriever import HybridSearch
    from assistant.service import Assistant
    from index.store import build_store

    settings = Settings(data_dir=data_dir)
    return Assistant(settings, HybridSearch(build_store(settings), embedder, settings, refresh_seconds=0.2))


def large_document(path: Path, copies: int = 1) -> Path:
    """The bundled document's sections repeated under new headings (a few seconds to embed)."""
    from index.sections import load_document, split_sections

    sections = split_sections(load_document(BUNDLED_DOCUMENT))
    parts = [f"# {s.title} (volume {k})\n\n{s.text}\n" for k in range(1, copies + 1) for s in sections]
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def assert_founding_answer(assistant) -> None:
    answer = assistant.ask(FOUNDING)
    assert not answer.abstained
    assert answer.citations[0].section == "Company Background"
    assert "2010" in answer.answer


def test_sigkill_mid_build_leaves_the_previous_index_answering(data_dir: Path, tmp_path: Path,
                                                               real_embedder) -> None:
    from index.pipeline import index_documents
    from index.store import build_store

    live_before = build_store(Settings(data_dir=data_dir)).active_generation()
    before = collections(data_dir)
    big = large_document(tmp_path / "large.md")
    proc = subprocess.Popen([str(BIN / "assistant"), "index", "--quiet", str(big)], env=env_for(data_dir),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    partial: set[str] = set()
    deadline = time.monotonic() + 120
    while not partial and time.monotonic() < deadline and proc.poll() is None:
        partial = collections(data_dir) - before
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert partial, "the build finished or failed before a partial collection appeared"
    assert proc.returncode == -signal.SIGKILL

    # The crashed build is still on disk, but readers never see it.
    assistant = make_assistant(data_dir, real_embedder)
    assert assistant.search.store.active_generation() == live_before
    assert_founding_answer(assistant)
    assert assistant.health()["generation"] == live_before
    assert assistant.health()["documents"] == [BUNDLED_DOCUMENT.name]

    # The next build succeeds and drops the crashed collection.
    extra = tmp_path / "extra.md"
    extra.write_text("# Glossary\n\nMIUI is the Android based interface Xiaomi launched first.\n",
                     encoding="utf-8")
    report = index_documents([extra], build_store(Settings(data_dir=data_dir)), real_embedder)
    after = collections(data_dir)
    assert not (partial & after), "the crashed partial collection must be cleaned up"
    assert report.generation in after and live_before in after  # new + previous kept
    assistant = make_assistant(data_dir, real_embedder)
    assert_founding_answer(assistant)


def test_readers_see_the_old_or_the_new_generation_during_a_reindex(data_dir: Path, tmp_path: Path,
                                                                    real_embedder) -> None:
    assistant = make_assistant(data_dir, real_embedder)
    old = assistant.search.store.active_generation()
    changed = tmp_path / "docs" / BUNDLED_DOCUMENT.name
    changed.parent.mkdir()
    text = BUNDLED_DOCUMENT.read_text(encoding="utf-8")
    changed.write_text(text.replace("founded in 2010", "founded in 2011"), encoding="utf-8")
    writer = subprocess.Popen([str(BIN / "assistant"), "index", "--quiet", str(changed)],
                              env=env_for(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    seen: dict[str, set[str]] = {}
    stop_at = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        before = assistant.search.catalog().generation
        answer = assistant.ask(FOUNDING)  # must never raise
        generation = assistant.search.catalog().generation
        assert generation == assistant.search.store.generation, "catalog and vectors from different builds"
        assert answer.citations and answer.citations[0].section == "Company Background"
        years = {y for y in ("2010", "2011") if y in answer.answer}
        assert len(years) == 1, f"mixed or missing year: {answer.answer!r}"
        if generation == before:  # an answer made while the new build went live belongs to either
            seen.setdefault(generation or "", set()).update(years)
        if stop_at is None and writer.poll() is not None:
            stop_at = time.monotonic() + 1.0
        if stop_at is not None and time.monotonic() > stop_at:
            break
    assert writer.returncode == 0, writer.stderr.read() if writer.stderr else ""
    new = assistant.search.store.active_generation()
    assert new != old
    assert set(seen) <= {old, new}, "a reader saw a generation that was never live"
    assert seen.get(old, {"2010"}) == {"2010"} and seen[new] == {"2011"}


def test_a_failed_ingest_changes_nothing_and_names_the_file(data_dir: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("# Notes\n\nA perfectly good document.\n", encoding="utf-8")
    bad = tmp_path / "broken.txt"
    bad.write_bytes(b"Caf\xe9 \xff\xfe not UTF-8\n")
    before = collections(data_dir)
    proc = subprocess.run([str(BIN / "assistant"), "index", "--quiet", str(good), str(bad)],
                          env=env_for(data_dir), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "broken.txt" in proc.stderr and "UTF-8" in proc.stderr
    assert "unchanged" in proc.stderr
    assert collections(data_dir) == before
