"""A bounded load test of the real `assistant serve` on loopback: latency, overload and memory.

20 concurrent clients x 10 questions must all be answered; past ``max_concurrency`` the server
says 503 (or 429) at once instead of queueing; resident memory stays flat over 1,000 requests.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.integration

QUESTIONS = [json.loads(line)["question"] for line in
             (Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl").read_text().splitlines()[:40]]
CAPACITY = 20


def post(base: str, question: str, timeout: float = 120.0) -> tuple[int, float, dict]:
    body = json.dumps({"question": question}).encode()
    req = urllib.request.Request(base + "/api/ask", body, {"Content-Type": "application/json"})
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, payload = resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        status, payload = err.code, json.loads(err.read() or b"{}")
    return status, (time.perf_counter() - t0) * 1000, payload


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture(scope="module")
def server(real_assistant, free_port, server_process) -> Iterator[tuple[str, int]]:
    """`assistant serve` on a free port over the session's real index (no rate limit)."""
    port = free_port()
    env = dict(os.environ, ASSISTANT_DATA_DIR=str(real_assistant.settings.data_dir), ASSISTANT_RATE_LIMIT="0",
               ASSISTANT_MAX_CONCURRENCY=str(CAPACITY), HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
    env.pop("ASSISTANT_CHROMA_URL", None)
    base = f"http://127.0.0.1:{port}"
    cmd = [str(Path(sys.executable).parent / "assistant"), "serve", "--port", str(port)]
    with server_process(cmd, base + "/healthz", timeout=240, env=env, name="assistant serve") as proc:
        yield base, proc.pid


def test_twenty_clients_ten_questions_each_all_answered(server, artifacts_dir: Path) -> None:
    base, _ = server

    def client(n: int) -> list[tuple[int, float, dict]]:
        return [post(base, QUESTIONS[(n * 10 + i) % len(QUESTIONS)]) for i in range(10)]

    t0 = time.perf_counter()
    with ThreadPoolExecutor(20) as pool:
        results = [r for batch in pool.map(client, range(20)) for r in batch]
    wall = time.perf_counter() - t0
    statuses = [s for s, _, _ in results]
    latencies = [ms for _, ms, _ in results]
    assert statuses == [200] * 200, {s: statuses.count(s) for s in set(statuses)}
    assert all(p["answer"] for _, _, p in results)
    figures = {"requests": 200, "clients": 20, "wall_s": round(wall, 1),
               "p50_ms": round(float(np.percentile(latencies, 50)), 1),
               "p95_ms": round(float(np.percentile(latencies, 95)), 1),
               "throughput_rps": round(200 / wall, 1)}
    print(f"\nload: {figures}")
    (artifacts_dir / "load.json").write_text(json.dumps(figures, indent=2) + "\n")


def test_past_capacity_the_server_says_busy_quickly(server) -> None:
    base, _ = server
    n = CAPACITY * 4
    barrier = threading.Barrier(n)

    def burst(i: int) -> tuple[int, float, dict]:
        barrier.wait()
        return post(base, QUESTIONS[i % len(QUESTIONS)])

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(burst, range(n)))
    statuses = [s for s, _, _ in results]
    assert set(statuses) <= {200, 429, 503}, statuses
    refused = [(ms, p) for s, ms, p in results if s in (429, 503)]
    assert refused, "80 simultaneous requests never exceeded a capacity of 20"
    assert statuses.count(200) >= CAPACITY // 2
    assert all(p.get("error") for _, p in refused)
    assert max(ms for ms, _ in refused) < 5000, "a busy answer must come at once, not after queueing"
    status, _, payload = post(base, "In what year was Xiaomi founded, and by whom?")
    assert status == 200 and "2010" in payload["answer"]


def test_memory_stays_flat_across_a_thousand_requests(server) -> None:
    base, pid = server
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: post(base, QUESTIONS[i % len(QUESTIONS)]), range(100)))  # warm
        start = rss_mb(pid)
        results = list(pool.map(lambda i: post(base, QUESTIONS[i % len(QUESTIONS)] + f" ({i})"), range(1000)))
    end = rss_mb(pid)
    assert [s for s, _, _ in results].count(200) == 1000
    print(f"\nRSS: {start:.0f} MB after warm-up, {end:.0f} MB after 1,000 more requests")
    assert end - start < max(50.0, 0.1 * start), f"RSS grew from {start:.0f} MB to {end:.0f} MB"
