"""Settings: ASSISTANT_* environment variables are read; defaults point at the bundled document."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.settings import BUNDLED_DOCUMENT, PROJECT_DIR, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in ("ASSISTANT_DATA_DIR", "ASSISTANT_DOCUMENTS", "ASSISTANT_CHUNK_TOKENS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults_index_the_bundled_document_into_the_project_data_dir():
    settings = Settings()
    assert settings.documents == [BUNDLED_DOCUMENT]
    assert BUNDLED_DOCUMENT.is_file() and BUNDLED_DOCUMENT.name == "xiaomi-business-model.txt"
    assert settings.data_dir == PROJECT_DIR / ".data"
    assert settings.chroma_dir == settings.data_dir / "chroma"
    assert settings.chunk_tokens <= 256  # MiniLM reads at most 256 word pieces


def test_data_dir_comes_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "idx"))
    settings = Settings()
    assert settings.data_dir == tmp_path / "idx"
    assert settings.chroma_dir == tmp_path / "idx" / "chroma"


def test_documents_are_a_comma_separated_environment_list(monkeypatch):
    monkeypatch.setenv("ASSISTANT_DOCUMENTS", "docs/a.txt, docs/b.md,,")
    assert Settings().documents == [Path("docs/a.txt"), Path("docs/b.md")]


def test_a_single_document_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_DOCUMENTS", str(tmp_path / "only.md"))
    assert Settings().documents == [tmp_path / "only.md"]


def test_explicit_arguments_override_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", "/somewhere/else")
    assert Settings(data_dir=tmp_path).data_dir == tmp_path


def test_out_of_range_chunk_size_is_rejected(monkeypatch):
    from pydantic import ValidationError

    monkeypatch.setenv("ASSISTANT_CHUNK_TOKENS", "1000")
    with pytest.raises(ValidationError, match="chunk_tokens"):
        Settings()


def test_cli_data_dir_flag_and_environment_reach_the_settings(monkeypatch, tmp_path):
    from assistant.cli import _settings, build_parser

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "env"))
    assert _settings(build_parser().parse_args(["ask", "x"])).data_dir == tmp_path / "env"
    args = build_parser().parse_args(["--data-dir", str(tmp_path / "flag"), "ask", "x"])
    assert _settings(args).data_dir == tmp_path / "flag"


@pytest.mark.parametrize(("name", "value"), [
    ("ASSISTANT_ALLOWED_ORIGINS", "wiki.corp"), ("ASSISTANT_ALLOWED_ORIGINS", "https://wiki.corp/page"),
    ("ASSISTANT_ALLOWED_HOSTS", "https://assistant.corp"), ("ASSISTANT_ALLOWED_HOSTS", "assistant.corp:7860"),
])
def test_an_origin_or_host_name_that_is_neither_is_a_settings_error(monkeypatch, name, value):
    from pydantic import ValidationError

    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match="is no (origin|host name)"):
        Settings()


def test_origins_and_host_names_are_comma_separated_lists(monkeypatch):
    monkeypatch.setenv("ASSISTANT_ALLOWED_ORIGINS", "https://wiki.corp, http://portal.corp:8080/")
    monkeypatch.setenv("ASSISTANT_ALLOWED_HOSTS", "assistant.corp,*.intranet.corp")
    s = Settings()
    assert s.allowed_origins == ["https://wiki.corp", "http://portal.corp:8080/"]
    assert s.allowed_hosts == ["assistant.corp", "*.intranet.corp"]
