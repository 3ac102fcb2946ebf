"""`assistant eval`: answer-quality metrics on a question set, through the same path as `ask`.

Usage::

    assistant eval                                   # held-out split of tests/eval/questions.jsonl
    assistant eval --split tune --json r.json --html r.html

Each question line: {"id", "type", "split", "question", "history", "gold_sections",
"key_phrases", "expect_abstain"}; without "expect_abstain", the types "unanswerable", "injection"
and "off_topic" are expected to be declined. Metrics: hit@1, hit@3, MRR, key-phrase recall, abstention on
unanswerable, false refusals, follow-up hit@3, two-section coverage, quote fidelity, injection
refusal, per type, and latency p50/p95.
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from assistant.settings import PROJECT_DIR

DEFAULT_SET = PROJECT_DIR / "tests" / "eval" / "questions.jsonl"
ANSWERABLE = ("lookup", "paraphrase", "two_section", "followup", "false_premise")


_REQUIRED = ("id", "type", "question", "gold_sections")


class EvalSetError(ValueError):
    """A question set that cannot be read."""


def load_questions(path: Path, split: str = "heldout") -> list[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalSetError(f"cannot read the question set {path}: {exc}") from exc
    items = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}, line {number}: not valid JSON ({exc.msg})") from exc
        missing = [k for k in _REQUIRED if not isinstance(item, dict) or k not in item]
        if missing:
            raise EvalSetError(f"{path}, line {number}: expected a JSON object with {', '.join(_REQUIRED)} "
                               f"(missing {', '.join(missing)})")
        items.append(item)
    # A question without a "split" (a team's own set) belongs to every split.
    chosen = [q for q in items if split == "all" or q.get("split", split) == split]
    if not items:
        raise EvalSetError(f"{path}: no questions in the set (one JSON object per line)")
    if not chosen:
        raise EvalSetError(f"{path}: no question has split {split!r} (try --split all)")
    return chosen


ABSTAINING_TYPES = ("unanswerable", "injection", "off_topic")


def expects_abstention(q: dict[str, Any]) -> bool:
    """``expect_abstain`` when given, else whether the type is one the assistant should decline."""
    given = q.get("expect_abstain")
    return bool(given) if given is not None else q.get("type") in ABSTAINING_TYPES


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]


def score_one(
    q: dict[str, Any], out: dict[str, Any], sections_text: dict[tuple[str, str], list[str]]
) -> dict[str, Any]:
    """Per-question measures from one JSON answer (the `ask --json` object)."""
    cited = [c["section"] for c in out["citations"]]
    gold = set(q["gold_sections"])
    rank = next((i + 1 for i, s in enumerate(cited) if s in gold), None)
    answer_l = out["answer"].lower()
    phrases = q.get("key_phrases") or []
    recall = sum(p.lower() in answer_l for p in phrases) / len(phrases) if phrases else None
    verbatim = all(
        any(c["quote"] in text for text in sections_text.get((c["document"], c["section"]), []))
        for c in out["citations"]
    )
    coverage = len(gold & set(cited)) / min(len(gold), 2) if gold else None
    return {
        "id": q["id"], "type": q["type"], "question": q["question"], "abstained": out["abstained"],
        "expect_abstain": expects_abstention(q), "hit1": rank == 1, "hit3": rank is not None and rank <= 3,
        "rr": 1 / rank if rank else 0.0, "recall": recall, "verbatim": verbatim, "coverage": coverage,
        "cited": cited, "gold": sorted(gold), "query": out.get("query", ""), "answer": out["answer"],
    }


def summarise(rows: list[dict[str, Any]], latencies: list[float]) -> dict[str, Any]:
    def mean(values: list[float]) -> float:
        return round(statistics.fmean(values), 3) if values else float("nan")

    answerable = [r for r in rows if not r["expect_abstain"]]
    unanswerable = [r for r in rows if r["type"] == "unanswerable"]
    injection = [r for r in rows if r["type"] == "injection"]
    follow = [r for r in rows if r["type"] == "followup"]
    two = [r for r in rows if r["type"] == "two_section"]
    metrics = {
        "questions": len(rows),
        "hit@1": mean([r["hit1"] for r in answerable]),
        "hit@3": mean([r["hit3"] for r in answerable]),
        "mrr": mean([r["rr"] for r in answerable]),
        "key_phrase_recall": mean([r["recall"] for r in answerable if r["recall"] is not None]),
        "abstention_unanswerable": mean([r["abstained"] for r in unanswerable]),
        "false_refusal": mean([r["abstained"] for r in answerable]),
        "followup_hit@3": mean([r["hit3"] for r in follow]),
        "two_section_coverage": mean([r["coverage"] for r in two if r["coverage"] is not None]),
        "quote_fidelity": mean([r["verbatim"] for r in rows]),
        "injection_refusal": mean([r["abstained"] for r in injection]),
        "latency_p50_ms": round(_percentile(latencies, 50), 1),
        "latency_p95_ms": round(_percentile(latencies, 95), 1),
    }
    per_type: dict[str, dict[str, float]] = {}
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[r["type"]].append(r)
    for t, rs in sorted(groups.items()):
        per_type[t] = {
            "n": len(rs),
            "hit@1": mean([r["hit1"] for r in rs]) if t in ANSWERABLE else float("nan"),
            "hit@3": mean([r["hit3"] for r in rs]) if t in ANSWERABLE else float("nan"),
            "recall": mean([r["recall"] for r in rs if r["recall"] is not None]),
            "abstained": mean([r["abstained"] for r in rs]),
        }
    return {"metrics": metrics, "per_type": per_type}


def evaluate(assistant: Any, questions: list[dict[str, Any]]) -> dict[str, Any]:
    """Run every question through ``assistant.ask`` and score it. Quotes are checked against
    the sections of the documents the index holds (not ``ASSISTANT_DOCUMENTS``)."""
    sections_text: dict[tuple[str, str], list[str]] = defaultdict(list)
    for section in assistant.search.catalog().sections.values():
        sections_text[(section.document, section.title)].append(section.text)
    rows, latencies = [], []
    for q in questions:
        t0 = time.perf_counter()
        out = assistant.ask(q["question"], q.get("history") or []).to_json()
        latencies.append((time.perf_counter() - t0) * 1000)
        rows.append(score_one(q, out, sections_text))
    report = summarise(rows, latencies)
    report["rows"] = rows
    return report


def format_report(report: dict[str, Any]) -> str:
    lines = ["metric                      value"]
    for k, v in report["metrics"].items():
        lines.append(f"{k:<27} {v}")
    lines += ["", "type            n   hit@1  hit@3  recall  abstained"]
    for t, m in report["per_type"].items():
        lines.append(f"{t:<14} {m['n']:>3}   {m['hit@1']:<5}  {m['hit@3']:<5}  {m['recall']:<6}  {m['abstained']}")
    return "\n".join(lines)


def write_html(report: dict[str, Any], path: Path) -> None:
    """A self-contained HTML report with an inline SVG bar chart of the main metrics."""
    keys = ["hit@1", "hit@3", "mrr", "key_phrase_recall", "abstention_unanswerable", "false_refusal",
            "followup_hit@3", "two_section_coverage", "quote_fidelity", "injection_refusal"]
    bars = []
    for i, k in enumerate(keys):
        v = report["metrics"].get(k) or 0.0
        v = 0.0 if v != v else float(v)
        bars.append(f'<text x="0" y="{i * 26 + 17}" font-size="13">{html.escape(k)}</text>'
                    f'<rect x="210" y="{i * 26 + 4}" width="{v * 400:.0f}" height="18" fill="#3b82f6"/>'
                    f'<text x="{215 + v * 400:.0f}" y="{i * 26 + 17}" font-size="13">{v:.3f}</text>')
    rows = "".join(
        f"<tr><td>{html.escape(r['id'])}</td><td>{html.escape(r['type'])}</td><td>{html.escape(r['question'])}</td>"
        f"<td>{'yes' if r['hit3'] else 'no'}</td><td>{'yes' if r['abstained'] else 'no'}</td>"
        f"<td>{html.escape(', '.join(r['cited']))}</td><td>{html.escape(', '.join(r['gold']))}</td></tr>"
        for r in report["rows"]
    )
    doc = (f"<!doctype html><meta charset='utf-8'><title>Evaluation report</title>"
           f"<h1>Evaluation report</h1><pre>{html.escape(format_report(report))}</pre>"
           f"<svg width='700' height='{len(keys) * 26 + 10}' xmlns='http://www.w3.org/2000/svg'>{''.join(bars)}</svg>"
           f"<table border='1' cellspacing='0'><tr><th>id</th><th>type</th><th>question</th><th>hit@3</th>"
           f"<th>abstained</th><th>cited</th><th>gold</th></tr>{rows}</table>")
    path.write_text(doc, encoding="utf-8")


def main(argv: list[str], data_dir: Path | None = None) -> int:
    parser = argparse.ArgumentParser(prog="assistant eval", description=__doc__.split("\n")[0])
    parser.add_argument("--set", type=Path, nargs="+", default=[DEFAULT_SET],
                        help="question file(s), JSON lines (default: tests/eval/questions.jsonl)")
    parser.add_argument("--split", default="heldout", choices=["heldout", "tune", "all"])
    parser.add_argument("--json", type=Path, help="write the full report as JSON")
    parser.add_argument("--html", type=Path, help="write an HTML report with a chart")
    parser.add_argument("--failures", action="store_true", help="list the questions that missed")
    args = parser.parse_args(argv)

    from assistant.service import build_assistant
    from assistant.settings import Settings

    questions = [q for path in args.set for q in load_questions(path, args.split)]
    for out in (args.json, args.html):  # a report that cannot be written fails now, not after the run
        if out is not None and not out.parent.is_dir():
            raise EvalSetError(f"cannot write the report {out}: no folder {out.parent}")
    settings = Settings(data_dir=data_dir) if data_dir else Settings()
    assistant = build_assistant(settings)
    assistant.warm_up()
    report = evaluate(assistant, questions)
    print(f"split: {args.split}  ({report['metrics']['questions']} questions, answerer {assistant.answered_by})")
    print(format_report(report))
    if args.failures:
        for r in report["rows"]:
            bad = (r["expect_abstain"] != r["abstained"]) or (not r["expect_abstain"] and not r["hit3"]) or (
                r["recall"] is not None and r["recall"] < 1)
            if bad:
                print(f"- {r['id']} [{r['type']}] {r['question']!r} query={r['query']!r}\n    cited={r['cited']} "
                      f"gold={r['gold']} abstained={r['abstained']} recall={r['recall']}\n    {r['answer'][:200]}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    if args.html:
        write_html(report, args.html)
    return 0
