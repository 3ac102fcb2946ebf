"""Shared fixtures: settings in a tmp data dir, fake and real embedders, a real indexed assistant."""

from __future__ import annotations

import os
from pathlib import Path

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
