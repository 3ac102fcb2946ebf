"""Shared fixtures: settings in a tmp data dir, fake and real embedders, a real indexed assistant."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.settings import BUNDLED_DOCUMENT, Settings  # noqa: E402

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a private data dir (no environment leaks into tests)."""
    return Settings(data_dir=tmp_path / "data", documents=[BUNDLED_DOCUMENT])


@pytest.fixture
def hash_embedder():
    from index.embeddings import HashEmbedder

    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The real bundled all-MiniLM-L6-v2, loaded once per test session."""
    from index.embeddings import SentenceTransformerEmbedder, bundled_model_path

    embedder = SentenceTransformerEmbedder(bundled_model_path())
    embedder.load()
    return embedder


@pytest.fixture(scope="session")
def real_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("real-data"), documents=[BUNDLED_DOCUMENT])


@pytest.fixture(scope="session")
def real_assistant(real_settings: Settings, real_embedder):
    """The bundled document indexed with the real MiniLM into a real Chroma (tmp dir)."""
    from assistant.retriever import HybridSearch
    from assistant.service import Assistant
    from index.pipeline import index_documents
    from index.store import build_store

    store = build_store(real_settings)
    index_documents([BUNDLED_DOCUMENT], store, real_embedder)
    return Assistant(real_settings, HybridSearch(store, real_embedder, real_settings))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def free_local_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(cmd: list[str], ready_url: str, *, timeout: float, env: dict[str, str] | None = None,
                   log: IO[bytes] | None = None, name: str = "server") -> Iterator[subprocess.Popen]:
    """Start ``cmd``, wait until ``ready_url`` answers 200, yield the process, stop it afterwards."""
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT if log is not None else out)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                detail = ""
                if log is not None:
                    log.seek(0)
                    detail = ": " + log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}{detail}")
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not answer {ready_url} within {timeout:.0f} s")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    return free_local_port


@pytest.fixture(scope="session")
def server_process() -> Callable[..., Any]:
    """``with server_process(cmd, ready_url, timeout=...) as proc:`` a real local server."""
    return running_server
