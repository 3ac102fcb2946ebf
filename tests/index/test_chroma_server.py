"""Chroma server mode: index through a real `chroma run`, answer from two separate replicas.

Every replica rebuilds its BM25 side from the server's records, so two processes that share
one Chroma server give the same cited answer, and a re-index is picked up without a restart.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import BUNDLED_DOCUMENT, Settings

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
FOUNDING = "In what year was Xiaomi founded, and by whom?"


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory, free_port, server_process) -> Iterator[str]:
    """A real Chroma server on a free loopback port, for this module only."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    url = f"http://127.0.0.1:{port}"
    cmd = [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)]
    with server_process(cmd, f"{url}/api/v2/heartbeat", timeout=30, name="chroma run"):
        yield url


@pytest.fixture(scope="module")
def server_settings(chroma_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("indexer"), chroma_url=chroma_url,
                    documents=[BUNDLED_DOCUMENT])


@pytest.fixture(scope="module")
def indexed(server_settings: Settings, real_embedder) -> str:
    """The bundled document indexed through the server; returns the generation."""
    from index.pipeline import index_documents
    from index.store import build_store

    report = index_documents([BUNDLED_DOCUMENT], build_store(server_settings), real_embedder)
    assert report.generation
    return report.generation


def replica_env(chroma_url: str, data_dir: Path) -> dict[str, str]:
    env = dict(os.environ, ASSISTANT_CHROMA_URL=chroma_url, ASSISTANT_DATA_DIR=str(data_dir),
               HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", ANONYMIZED_TELEMETRY="False")
    return env


def test_the_index_lives_on_the_server_not_in_the_data_dir(server_settings: Settings, indexed: str) -> None:
    from index.store import build_store

    store = build_store(server_settings)
    assert store.active_generation() == indexed
    assert store.count() > 0
    assert not server_settings.chroma_dir.exists(), "server mode must not create an embedded store"


def test_two_replicas_answer_through_the_server(chroma_url: str, indexed: str, tmp_path: Path) -> None:
    procs = []
    for name in ("replica-a", "replica-b"):
        procs.append(subprocess.Popen(
            [str(BIN / "assistant"), "ask", "--json", FOUNDING],
            env=replica_env(chroma_url, tmp_path / name),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    answers = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        answers.append(json.loads(out))
    for answer in answers:
        assert not answer["abstained"]
        assert answer["citations"][0]["section"] == "Company Background"
        assert "2010" in answer["answer"]
    assert answers[0] == answers[1], "replicas sharing one Chroma server must agree"
    for name in ("replica-a", "replica-b"):
        assert not (tmp_path / name / "chroma").exists()


def _ask_line(proc: subprocess.Popen, question: str, timeout: float = 60.0) -> dict:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps({"question": question}) + "\n")
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    assert ready, "the replica did not answer in time"
    return json.loads(proc.stdout.readline())


def test_a_running_replica_picks_up_a_new_generation(
    chroma_url: str, server_settings: Settings, indexed: str, real_embedder, tmp_path: Path
) -> None:
    from index.pipeline import index_documents
    from index.store import build_store

    replica = subprocess.Popen(
        [str(BIN / "assistant"), "ask", "--jsonl"], env=replica_env(chroma_url, tmp_path / "replica"),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
    )
    try:
        before = _ask_line(replica, FOUNDING)
        assert "2010" in before["answer"]

        changed = tmp_path / "docs" / BUNDLED_DOCUMENT.name
        changed.parent.mkdir()
        text = BUNDLED_DOCUMENT.read_text(encoding="utf-8")
        assert "founded in 2010" in text
        changed.write_text(text.replace("founded in 2010", "founded in 2011"), encoding="utf-8")
        report = index_documents([changed], build_store(server_settings), real_embedder)
        assert report.generation != indexed and 0 < report.embedded < report.chunks

        time.sleep(2.5)  # replicas re-check the live generation every 2 s
        after = _ask_line(replica, FOUNDING)
        assert after["citations"][0]["section"] == "Company Background"
        assert "2011" in after["answer"] and "2010" not in after["answer"]
    finally:
        if replica.stdin:
            replica.stdin.close()
        replica.wait(timeout=30)
        # Put the original document back for any later test in this module.
        index_documents([BUNDLED_DOCUMENT], build_store(server_settings), real_embedder)

