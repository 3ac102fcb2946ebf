"""Retrieval ablation: section ranking (hit@1 / hit@3) with signals switched off, on question sets.

Usage::

    python -m assistant.ablation --set tests/eval/questions.jsonl --split tune

Ranks sections for every answerable question (follow-ups rewritten as `ask` does) under each
configuration below and prints a Markdown table: the README's "Retrieval ablation" comes from
this command. Only the ranking is measured, before sentence selection and abstention.
"""

from __future__ import annotations

import argparse
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from assistant.evaluate import DEFAULT_SET, load_questions
from assistant.models import Turn
from assistant.retriever import Weights

LEXICAL = ("bm25_sentence", "bm25_section")


def only(*names: str) -> Weights:
    """The shipped weights of ``names`` (1.0 for a signal shipped at 0), every other signal off."""
    shipped = Weights()
    return Weights(**{f.name: (getattr(shipped, f.name) or 1.0) if f.name in names else 0.0 for f in fields(Weights)})


CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("dense windows only (plain dense baseline)", {"weights": only("window")}),
    ("dense sentences only", {"weights": only("sentence")}),
    ("dense titles only", {"weights": only("title")}),
    ("dense section centroid only", {"weights": only("centroid")}),
    ("BM25 sentences only", {"weights": only("bm25_sentence")}),
    ("BM25 sections only", {"weights": only("bm25_section")}),
    ("all dense signals (heading vector off)", {"weights": only("window", "sentence", "centroid")}),
    ("all BM25 signals", {"weights": only(*LEXICAL)}),
    ("hybrid plus the heading vector (title weight 0.3)", {"weights": replace(Weights(), title=0.3)}),
    ("hybrid without centroid", {"weights": replace(Weights(), centroid=0.0)}),
    ("hybrid without sentence signals", {"weights": replace(Weights(), sentence=0.0, bm25_sentence=0.0)}),
    ("hybrid without the everyday-to-formal query lexicon", {"weights": replace(Weights(), expansion=0.0)}),
    ("hybrid, subject name and 'the company' kept in the dense query", {"strip_subjects": False}),
    ("hybrid (shipped)", {}),
    ("hybrid, no follow-up rewrite", {"rewrite": False}),
]


def ranks(assistant: Any, questions: list[dict[str, Any]], weights: Weights | None = None,
          strip_subjects: bool = True, rewrite: bool = True) -> list[int | None]:
    """Rank (1-based) of the first gold section for each answerable question, None if not in the top 3."""
    search = assistant.search
    saved = (search.weights, search.strip_subjects)
    search.weights, search.strip_subjects = weights or Weights(), strip_subjects
    try:
        out: list[int | None] = []
        for q in questions:
            history = [Turn(t["role"], t["content"]) for t in q.get("history") or []]
            query = assistant.rewriter.rewrite(q["question"], history) if rewrite else q["question"]
            titles = [h.section.title for h in search.search(query, 3).hits[:3]]
            out.append(next((i + 1 for i, t in enumerate(titles) if t in set(q["gold_sections"])), None))
        return out
    finally:
        search.weights, search.strip_subjects = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.ablation", description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, nargs="+", default=[DEFAULT_SET])
    parser.add_argument("--split", default="tune", choices=["heldout", "tune", "all"])
    args = parser.parse_args(argv)

    from assistant.service import build_assistant
    from assistant.settings import Settings

    assistant = build_assistant(Settings())
    assistant.warm_up()
    questions = [q for path in args.set for q in load_questions(path, args.split)
                 if not q.get("expect_abstain") and q.get("gold_sections")]
    print(f"| Configuration | hit@1 / hit@3 ({len(questions)} questions, split {args.split}) |\n|---|---|")
    for name, options in CONFIGS:
        got = ranks(assistant, questions, **options)
        hit1 = sum(r == 1 for r in got) / len(got)
        hit3 = sum(r is not None for r in got) / len(got)
        print(f"| {name} | {hit1:.3f} / {hit3:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
