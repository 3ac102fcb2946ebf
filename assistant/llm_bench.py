"""Figures for a generative backend: time to first token, tokens/s, latency p50/p95, validation overhead.

Usage::

    ASSISTANT_LLM=llamacpp ASSISTANT_LLM_MODEL=path/to/model.gguf python -m assistant.llm_bench [-n 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.citations import validate_answer

QUESTIONS = Path(__file__).resolve().parent.parent / "tests" / "eval" / "questions.jsonl"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench_llm(assistant: Any, questions: Sequence[str]) -> dict[str, Any]:
    """Answer each question through ``assistant.answerer`` (an LLMAnswerer) and summarise the timings.

    Abstained questions are skipped (the model is not called for them). Times are in ms.
    """
    ttft, total, rates, validation, fallbacks, measured = [], [], [], [], 0, 0
    for question in questions:
        decision = assistant.decide(question)
        if decision.reason:
            continue
        t0 = time.perf_counter()
        stamps: list[float] = []
        parts: list[str] = []
        answer = None
        fallback = lambda d=decision: assistant.extractive_answer(d)  # noqa: E731
        for kind, value in assistant.answerer.stream(decision, fallback):
            if kind == "token":
                stamps.append(time.perf_counter())
                parts.append(value)
            else:
                answer = value
        end = time.perf_counter()
        measured += 1
        fallbacks += answer is not None and answer.answered_by.startswith("extractive")
        total.append((end - t0) * 1000)
        if stamps:
            ttft.append((stamps[0] - t0) * 1000)
        if len(stamps) > 1 and stamps[-1] > stamps[0]:
            rates.append((len(stamps) - 1) / (stamps[-1] - stamps[0]))
        v0 = time.perf_counter()
        validate_answer("".join(parts), decision.result.hits, decision.catalog, assistant.answered_by)
        validation.append((time.perf_counter() - v0) * 1000)
    return {
        "answered_by": assistant.answered_by, "questions": measured, "fallbacks": fallbacks,
        "max_tokens": assistant.settings.llm_max_tokens,
        "ttft_ms_p50": round(_percentile(ttft, 0.5), 1) if ttft else None,
        "tokens_per_s_median": round(statistics.median(rates), 1) if rates else None,
        "latency_ms_p50": round(_percentile(total, 0.5), 1) if total else None,
        "latency_ms_p95": round(_percentile(total, 0.95), 1) if total else None,
        "validation_ms_mean": round(statistics.fmean(validation), 2) if validation else None,
        "validation_ms_max": round(max(validation), 2) if validation else None,
    }


def answerable_questions(n: int) -> list[str]:
    """The first ``n`` single-turn questions of the evaluation set that the document answers."""
    items = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [i["question"] for i in items if not i.get("expect_abstain") and not i.get("history")][:n]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.llm_bench", description=__doc__)
    parser.add_argument("-n", type=int, default=20, help="questions to answer (default 20)")
    args = parser.parse_args(argv)
    from assistant.service import build_assistant
    from assistant.settings import Settings

    settings = Settings()
    if settings.llm == "extractive":
        parser.error("set ASSISTANT_LLM=llamacpp (and ASSISTANT_LLM_MODEL) or ASSISTANT_LLM=openai")
    assistant = build_assistant(settings)
    assistant.ask(answerable_questions(1)[0])  # warm up: model, index, caches
    print(json.dumps(bench_llm(assistant, answerable_questions(args.n)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
