"""Prompts live as files in ``prompts/``; this loads them by name."""

from __future__ import annotations

from functools import cache

from assistant.settings import PROMPTS_DIR


@cache
def load_text(name: str) -> str:
    """The text of ``prompts/<name>.txt`` (without the trailing newline)."""
    path = PROMPTS_DIR / f"{name}.txt"
    if not path.exists():
        raise FileNotFoundError(f"Missing prompt file {path}")
    return path.read_text(encoding="utf-8").rstrip("\n")


def load_template(name: str):  # noqa: ANN201 - a LangChain PromptTemplate
    """``prompts/<name>.txt`` as a LangChain prompt template."""
    from langchain_core.prompts import PromptTemplate

    return PromptTemplate.from_template(load_text(name))
