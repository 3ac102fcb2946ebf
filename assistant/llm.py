"""Generative answerers: a LangChain chat model (llama.cpp GGUF or OpenAI-compatible) behind prompts/.

Usage::

    answerer = build_answerer(Settings(llm="llamacpp", llm_model="/models/gemma.gguf"))
    assistant = Assistant(settings, search, answerer)   # None = the extractive answerer

Both backends run the same chain, ``prompts/answer.txt | chat model``: tokens stream as the model
produces them, then assistant.citations validates every [n] marker against the retrieved text.
The model is only called after the abstention decision, and only with numbered sources that fit
its context window.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.citations import validate_answer
from assistant.prompts import load_template

if TYPE_CHECKING:
    from assistant.models import Answer, Turn
    from assistant.retriever import SectionHit
    from assistant.service import Decision, StreamEvent
    from assistant.settings import Settings

log = logging.getLogger(__name__)
INSTALL_LLM = "pip install -e '.[llm]'"
TEMPLATE_OVERHEAD = 48  # tokens the chat template adds around the prompt


class LLMConfigError(RuntimeError):
    """The LLM backend is misconfigured or its extra is not installed; the message says what to do."""


def _missing_extra(backend: str, exc: ImportError) -> LLMConfigError:
    return LLMConfigError(f"ASSISTANT_LLM={backend} needs the [llm] extra ({exc.name} is not installed): "
                          f"run `{INSTALL_LLM}`")


@lru_cache(maxsize=2)
def load_llamacpp(path: str, n_ctx: int, max_tokens: int) -> Any:
    """The GGUF as a LangChain ChatLlamaCpp, loaded once per process (per path and context size)."""
    try:
        import llama_cpp  # noqa: F401
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from langchain_community.chat_models import ChatLlamaCpp
    except ImportError as exc:
        raise _missing_extra("llamacpp", exc) from exc
    model = ChatLlamaCpp(model_path=path, n_ctx=n_ctx, max_tokens=max_tokens, temperature=0.0,
                         n_batch=512, n_threads=max(1, len(os.sched_getaffinity(0))), seed=0, verbose=False)
    # Free the model before interpreter shutdown: llama.cpp's own finaliser fails late in exit.
    close = getattr(getattr(model, "client", None), "close", None)
    if close is not None:
        atexit.register(close)
    return model


def build_chat_model(settings: Settings) -> tuple[Any, str, Callable[[str], int]]:
    """(chat model, ``backend:model`` label, token counter) for ``settings.llm``."""
    if settings.llm == "llamacpp":
        if not settings.llm_model:
            raise LLMConfigError("ASSISTANT_LLM=llamacpp needs ASSISTANT_LLM_MODEL=<path of a .gguf file>")
        path = Path(settings.llm_model).expanduser()
        if not path.is_file():
            raise LLMConfigError(f"ASSISTANT_LLM_MODEL={settings.llm_model}: no such GGUF file")
        model = load_llamacpp(str(path.resolve()), settings.llm_context, settings.llm_max_tokens)

        def count(text: str) -> int:
            return len(model.client.tokenize(text.encode("utf-8"), add_bos=False, special=False))

        return model, f"llamacpp:{path.name}", count
    if settings.llm == "openai":
        missing = [v for v, f in (("ASSISTANT_LLM_BASE_URL", settings.llm_base_url),
                                  ("ASSISTANT_LLM_MODEL", settings.llm_model)) if not f]
        if missing:
            raise LLMConfigError(f"ASSISTANT_LLM=openai needs {' and '.join(missing)} "
                                 "(e.g. http://127.0.0.1:11434/v1 and qwen2.5 for Ollama)")
        try:
            from langchain_openai import ChatOpenAI
        except ImportError as exc:
            raise _missing_extra("openai", exc) from exc
        model = ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model,
                           api_key=settings.llm_api_key or "none", timeout=settings.llm_timeout,
                           max_tokens=settings.llm_max_tokens, temperature=0.0, max_retries=0,
                           # langchain-openai sends max_completion_tokens, which llama.cpp's server
                           # and older Ollama ignore: send the classic field too.
                           extra_body={"max_tokens": settings.llm_max_tokens})
        return model, f"openai:{settings.llm_model}", approx_tokens
    raise LLMConfigError(f"ASSISTANT_LLM={settings.llm}: expected extractive, llamacpp or openai")


def approx_tokens(text: str) -> int:
    """A conservative token estimate (no tokenizer download): about 3 characters per token."""
    return len(text) // 3 + 1


def build_answerer(settings: Settings) -> LLMAnswerer | None:
    """None selects the built-in extractive answerer; otherwise an LLMAnswerer over the configured model."""
    if settings.llm == "extractive":
        return None
    model, label, count = build_chat_model(settings)
    return LLMAnswerer(model, settings, label, count, serialize=settings.llm == "llamacpp")


def format_sources(hits: list[SectionHit], texts: list[str]) -> str:
    """Numbered, clearly delimited sources; source text cannot close its own delimiter."""
    blocks = []
    for n, (hit, text) in enumerate(zip(hits, texts, strict=True), 1):
        body = text.replace("<source", "&lt;source").replace("</source", "&lt;/source")
        title = " > ".join(hit.section.path).replace('"', "'")
        blocks.append(f'<source id="{n}" section="{title}">\n{body}\n</source>')
    return "\n\n".join(blocks)


def _shorten(text: str) -> str:
    """About three quarters of ``text``, cut at a sentence end (else a space)."""
    cut = int(len(text) * 0.75)
    end = max(text.rfind(". ", 0, cut), text.rfind("\n", 0, cut))
    if end < cut // 2:
        end = text.rfind(" ", 0, cut)
    return text[: end + 1].rstrip() if end > 0 else text[:cut]


class LLMAnswerer:
    """Streams an answer from a LangChain chat model and settles its citations when it completes."""

    name = "llm"

    def __init__(self, chat_model: Any, settings: Settings, label: str,
                 count_tokens: Callable[[str], int] = approx_tokens, serialize: bool = False) -> None:
        self.settings = settings
        self.label = label
        self.backend = label.split(":", 1)[0]
        self.count_tokens = count_tokens
        self.template = load_template("answer")
        self.chat_model = chat_model
        self.chain = self.template | chat_model
        self._lock = threading.Lock() if serialize else None  # llama.cpp contexts are not thread-safe

    def fit(self, question: str, hits: list[SectionHit]) -> dict[str, str] | None:
        """Prompt inputs within the context budget: drop lowest-ranked sources, then shorten long ones.

        The question is never cut; None when even one shortened source does not fit.
        """
        budget = self.settings.llm_context - self.settings.llm_max_tokens - TEMPLATE_OVERHEAD
        hits = list(hits)
        texts = [h.section.text for h in hits]

        def inputs() -> dict[str, str]:
            return {"sources": format_sources(hits, texts), "question": question}

        while self.count_tokens(self.template.format(**inputs())) > budget:
            if len(hits) > 1:
                hits.pop()
                texts.pop()
                continue
            shorter = _shorten(texts[0])
            if len(shorter) < 80 or shorter == texts[0]:
                return None
            texts[0] = shorter
        return inputs()

    def stream(self, decision: Decision, fallback: Callable[[], Answer]) -> Iterator[StreamEvent]:
        """("token", str) as the model writes, then ("answer", Answer) with validated citations."""
        question = decision.query if decision.history else decision.question
        inputs = self.fit(question, decision.result.hits)
        if inputs is None:
            log.warning("question plus one source exceed llm_context=%s", self.settings.llm_context)
            yield "answer", self._fallback(fallback, [])
            return
        sent = decision.result.hits[: inputs["sources"].count('<source id="')]
        parts: list[str] = []
        try:
            with self._lock or nullcontext():
                for chunk in self.chain.stream(inputs):
                    token = chunk.content if isinstance(chunk.content, str) else chunk.text
                    if token:
                        parts.append(token)
                        yield "token", token
        except Exception as exc:  # a server down or timing out still gets the user an answer
            log.warning("%s failed (%s); answering extractively", self.label, exc)
            yield "answer", self._fallback(fallback, [])
            return
        answer = validate_answer("".join(parts), sent, decision.catalog, self.label)
        if not answer.citations:  # no sentence survived validation
            answer = self._fallback(fallback, answer.unsupported)
        yield "answer", answer

    def _fallback(self, fallback: Callable[[], Answer], unsupported: list[str]) -> Answer:
        answer = fallback()
        answer.answered_by = f"extractive (fallback from {self.backend})"
        answer.unsupported = unsupported
        return answer

    def condense(self, question: str, history: list[Turn]) -> str:
        """A follow-up plus history as one standalone question (prompts/condense.txt)."""
        if not history:
            return question
        lines = [f"{t.role}: {' '.join(t.content.split())[:400]}" for t in history[-4:]]
        chain = load_template("condense") | self.chat_model.bind(stop=["\n"])
        with self._lock or nullcontext():
            text = chain.invoke({"history": "\n".join(lines), "question": question}).content
        text = text.strip().splitlines()[0].strip() if isinstance(text, str) and text.strip() else ""
        return text or question

