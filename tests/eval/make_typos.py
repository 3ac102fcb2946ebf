"""The tuning questions with one slip of typing each, never in the first letter:

- ``tests/eval/questions_typos.jsonl``: a letter swapped, dropped or doubled in a word of six
  letters or more;
- ``tests/eval/questions_typos_short.jsonl``: a letter swapped, dropped, doubled or changed in a
  word of four letters ("poko", "homw", "casr"), the common function words left alone.

    python tests/eval/make_typos.py   # from the project folder; seeded, so the same files each time
"""

import glob
import json
import random
import re

SETS = sorted(glob.glob("tests/eval/questions_tune*.jsonl")) + ["tests/eval/questions.jsonl"]
FUNCTION_WORDS = {"what", "does", "that", "this", "with", "have", "from", "they", "when", "will", "them", "much",
                  "many", "make"}


def questions():
    for path in SETS:
        for line in open(path):
            q = json.loads(line)
            if q.get("split") == "tune" and q["type"] != "injection":
                yield q


def long_slip(w: str) -> str:
    i = random.randrange(1, len(w) - 2)
    kind = random.choice(["swap", "drop", "double"])
    if kind == "swap":
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if kind == "drop":
        return w[:i] + w[i + 1:]
    return w[:i] + w[i] + w[i:]


def short_slip(w: str) -> str:
    i = random.randrange(1, 3)
    kind = random.choice(["swap", "drop", "double", "change"])
    if kind == "swap":
        return w[:i] + w[i + 1] + w[i] + w[i + 2:]
    if kind == "drop":
        return w[:i] + w[i + 1:]
    if kind == "double":
        return w[:i] + w[i] + w[i:]
    return w[:i] + random.choice("aeioustnr") + w[i + 1:]


def write(out_path: str, seed: int, pattern: str, slip, suffix: str) -> None:
    random.seed(seed)
    written = 0
    with open(out_path, "w") as out:
        for q in questions():
            candidates = [m for m in re.finditer(pattern, q["question"]) if m.group(0) not in FUNCTION_WORDS]
            if not candidates:
                continue
            m = random.choice(candidates)
            typo = slip(m.group(0))
            if typo == m.group(0):
                continue
            q["question"] = q["question"][: m.start()] + typo + q["question"][m.end():]
            q["id"] += suffix
            out.write(json.dumps(q) + "\n")
            written += 1
    print(written, "questions written to", out_path)


write("tests/eval/questions_typos.jsonl", 7, r"\b[a-z]{6,}\b", long_slip, "-typo")
write("tests/eval/questions_typos_short.jsonl", 11, r"\b[a-z]{4}\b", short_slip, "-typo4")
