"""Builder of the configured answerer: extractive (no LLM) by default."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from assistant.settings import Settings


def build_answerer(settings: Settings) -> Any:
    """None selects the built-in extractive answerer."""
    if settings.llm == "extractive":
        return None
    raise NotImplementedError(f"ASSISTANT_LLM={settings.llm} is not available yet")
