"""The tuning questions with one slip of typing each (a letter swapped, dropped or doubled in a
word of six letters or more, never the first): tests/eval/questions_typos.jsonl.

    python tests/eval/make_typos.py   # from the project folder; seeded, so the same file each time
"""

import glob
import json
import random
import re

random.seed(7)
sets = sorted(glob.glob("tests/eval/questions_tune*.jsonl")) + ["tests/eval/questions.jsonl"]
written = 0
with open("tests/eval/questions_typos.jsonl", "w") as out:
    for path in sets:
        for line in open(path):
            q = json.loads(line)
            if q.get("split") != "tune" or q["type"] == "injection":
                continue
            candidates = list(re.finditer(r"\b[a-z]{6,}\b", q["question"]))
            if not candidates:
                continue
            m = random.choice(candidates)
            w = m.group(0)
            i = random.randrange(1, len(w) - 2)
            kind = random.choice(["swap", "drop", "double"])
            if kind == "swap":
                typo = w[:i] + w[i + 1] + w[i] + w[i + 2:]
            elif kind == "drop":
                typo = w[:i] + w[i + 1:]
            else:
                typo = w[:i] + w[i] + w[i:]
            if typo == w:
                continue
            q["question"] = q["question"][: m.start()] + typo + q["question"][m.end():]
            q["id"] += "-typo"
            out.write(json.dumps(q) + "\n")
            written += 1
print(written, "questions written")
