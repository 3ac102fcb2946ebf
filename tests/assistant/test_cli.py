"""The CLI contract (`assistant index`, `assistant ask`, `--json`, `--jsonl`), run in-process on a
real index (real MiniLM, real Chroma in a tmp dir), plus one real subprocess for flushing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.settings import BUNDLED_DOCUMENT, PROJECT_DIR, Settings
from index.store import build_store

pytestmark = pytest.mark.integration

FOUNDED = "In what year was Xiaomi founded, and by whom?"
UNANSWERABLE = "What was Xiaomi's revenue in 2023?"
DOC_TEXT = BUNDLED_DOCUMENT.read_text(encoding="utf-8")
HEADINGS = {line.strip() for line in DOC_TEXT.splitlines() if line.strip() and line.strip()[-1] not in ".!?"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, real_embedder) -> str:
    """A data dir holding the bundled document, indexed once with `assistant index --quiet`."""
    d = str(tmp_path_factory.mktemp("cli-data"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("index.embeddings.build_embedder", lambda settings: real_embedder)
        assert main(["--data-dir", d, "index", "--quiet"]) == 0
    return d


@pytest.fixture
def cli(data_dir, real_embedder, monkeypatch, capsys):
    """Run `assistant ...` in-process; the already loaded MiniLM is reused instead of reloaded."""
    monkeypatch.setattr("index.embeddings.build_embedder", lambda settings: real_embedder)

    def run(*argv: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", __import__("io").StringIO(stdin))
        code = main(["--data-dir", data_dir, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def section_text(title: str) -> str:
    """The body of the section headed ``title`` (or the opening text for "Introduction")."""
    from index.sections import load_document, split_sections

    sections = split_sections(load_document(BUNDLED_DOCUMENT))
    return next(s.text for s in sections if s.title == title)


def check_contract(obj: dict) -> None:
    assert {"answer", "abstained", "answered_by", "citations"} <= set(obj)
    assert isinstance(obj["answer"], str) and obj["answer"].strip()
    assert isinstance(obj["abstained"], bool)
    assert isinstance(obj["answered_by"], str) and obj["answered_by"]
    assert isinstance(obj["citations"], list)
    for c in obj["citations"]:
        assert {"document", "section", "path", "quote", "score"} <= set(c)
        assert isinstance(c["document"], str) and c["document"] == BUNDLED_DOCUMENT.name
        assert isinstance(c["section"], str) and (c["section"] in HEADINGS or c["section"] == "Introduction")
        assert isinstance(c["path"], list) and all(isinstance(p, str) for p in c["path"])
        assert c["path"][-1] == c["section"]
        assert isinstance(c["quote"], str) and c["quote"]
        assert c["quote"] in section_text(c["section"]), "quote must be verbatim text of its section"
        assert isinstance(c["score"], float)
    if obj["abstained"]:
        assert obj["citations"] == []


def test_ask_prints_the_answer_then_numbered_sources(cli):
    code, out, err = cli("ask", FOUNDED)
    assert code == 0
    answer, _, sources = out.partition("Sources:")
    assert "2010" in answer and "Lei Jun" in answer
    lines = [line for line in sources.splitlines() if line.strip()]
    assert lines[0].startswith("[1] ") and "Company Background" in lines[0]
    assert lines[1].strip().startswith('"') and "founded in 2010" in lines[1]


def test_ask_json_prints_one_contract_object(cli):
    code, out, _ = cli("ask", "--json", FOUNDED)
    assert code == 0
    assert len(out.strip().splitlines()) == 1
    obj = json.loads(out)
    check_contract(obj)
    assert obj["abstained"] is False
    assert "2010" in obj["answer"] and "Lei Jun" in obj["answer"]
    assert obj["citations"][0]["section"] == "Company Background"
    assert obj["citations"][0]["path"] == ["Company Background"]


def test_citations_come_most_relevant_first_by_their_score(cli):
    """Citations are ordered by the relevance score they report."""
    lines = [{"question": q} for q in ("What is HyperOS?", "How does Xiaomi make money?",
                                       "Who are Xiaomi's partners?")]
    code, out, _ = cli("ask", "--jsonl", stdin="".join(json.dumps(x) + "\n" for x in lines))
    for line in out.splitlines():
        scores = [c["score"] for c in json.loads(line)["citations"]]
        assert scores == sorted(scores, reverse=True), line


def test_unanswerable_question_abstains_without_citations(cli):
    code, out, _ = cli("ask", "--json", UNANSWERABLE)
    assert code == 0
    obj = json.loads(out)
    check_contract(obj)
    assert obj["abstained"] is True and obj["citations"] == []


def test_jsonl_answers_every_line_in_order(cli):
    lines = [
        {"question": "Who founded Xiaomi?"},
        {"question": "What does Xiaomi sell in Mi Home stores?"},
        {"question": "And when was that?", "history": [
            {"role": "user", "content": "Who founded Xiaomi?"},
            {"role": "assistant", "content": "Lei Jun founded Xiaomi."}]},
    ]
    # A file saved with a byte order mark, as Windows editors write it, reads the same.
    code, out, _ = cli("ask", "--jsonl", stdin="\ufeff" + "".join(json.dumps(x) + "\n" for x in lines))
    assert code == 0
    got = [json.loads(line) for line in out.splitlines()]
    assert len(got) == 3
    for obj in got:
        check_contract(obj)
    assert "Lei Jun" in got[0]["answer"]
    assert any(c["section"] == "Mi Home and Authorized Retail" for c in got[1]["citations"])
    assert "2010" in got[2]["answer"]  # the follow-up was resolved with its history


def test_jsonl_bad_line_gives_an_error_line_and_exit_2_while_others_are_answered(cli):
    ok = '{"question": "Who founded Xiaomi?"}\n'
    stdin = ok + '{not json\n{"question": "   "}\n' + ok
    code, out, _ = cli("ask", "--jsonl", stdin=stdin)
    assert code == 2
    got = [json.loads(line) for line in out.splitlines()]
    assert len(got) == 4
    assert "Lei Jun" in got[0]["answer"] and "Lei Jun" in got[3]["answer"]
    assert set(got[1]) == {"error"} and "line 2" in got[1]["error"]
    assert set(got[2]) == {"error"} and "empty" in got[2]["error"]


def test_jsonl_names_a_misspelt_field(cli):
    stdin = ('{"question": "In what year?", "History": []}\n{"question": "Who founded Xiaomi?", "id": 7}\n'
             '{"question": 42, "histroy": []}\n')
    code, out, _ = cli("ask", "--jsonl", stdin=stdin)
    got = [json.loads(line) for line in out.splitlines()]
    assert code == 2 and got[0] == {"error": "line 1: Unknown field 'History': did you mean 'history'?"}
    assert "Lei Jun" in got[1]["answer"]
    assert got[2] == {"error": "line 3: The question must be a string."}  # the wrong type first


@pytest.mark.parametrize("question", ["", "   \t ", "\u200b\u200b \ufeff"])
def test_empty_question_exits_2_with_a_clear_message(cli, question):
    code, out, err = cli("ask", question)
    assert code == 2 and out == ""
    assert "question is empty" in err


def test_index_of_a_missing_file_exits_2_and_leaves_the_index_unchanged(cli, data_dir, tmp_path):
    store = build_store(Settings(data_dir=Path(data_dir)))
    before = (store.active_generation(), {r.id for r in store.records(with_embeddings=False)})
    code, out, err = cli("index", "--quiet", str(BUNDLED_DOCUMENT), str(tmp_path / "missing.txt"))
    assert code == 2
    assert "missing.txt" in err and "unchanged" in err
    after_store = build_store(Settings(data_dir=Path(data_dir)))
    after = (after_store.active_generation(), {r.id for r in after_store.records(with_embeddings=False)})
    assert after == before


def test_reindexing_the_bundled_document_reports_nothing_embedded(cli):
    code, out, _ = cli("index", "--quiet")
    assert code == 0 and "up to date" in out and "nothing embedded" in out


def test_ask_with_another_embedding_model_than_the_index_says_to_reindex(data_dir, monkeypatch, capsys):
    """Same dimension, other model: once silently wrong answers, now an error naming both models."""
    from index.embeddings import HashEmbedder

    monkeypatch.setattr("index.embeddings.build_embedder", lambda settings: HashEmbedder(dimension=384))
    code = main(["--data-dir", data_dir, "ask", FOUNDED])
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    assert "all-MiniLM-L6-v2@" in err and "hash-384" in err and "assistant index" in err


def test_jsonl_subprocess_flushes_each_line_and_loads_the_model_once(data_dir):
    """A real `assistant ask --jsonl` process: each answer arrives before the next question is sent."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ASSISTANT_DATA_DIR": data_dir}
    proc = subprocess.Popen(
        [str(PROJECT_DIR / ".venv" / "bin" / "assistant"), "ask", "--jsonl"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        answers, waits = [], []
        for question in ["Who founded Xiaomi?", "What is HyperOS?", "Who founded Xiaomi?"]:
            assert proc.stdin and proc.stdout
            proc.stdin.write(json.dumps({"question": question}) + "\n")
            proc.stdin.flush()
            t0 = time.monotonic()
            line = proc.stdout.readline()  # blocks until this answer is flushed (stdin still open)
            waits.append(time.monotonic() - t0)
            assert line, "no answer line before the next question"
            answers.append(json.loads(line))
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        if proc.poll() is None:
            proc.kill()
    for obj in answers:
        check_contract(obj)
    assert "Lei Jun" in answers[0]["answer"] and answers[2]["answer"] == answers[0]["answer"]
    assert err.count("Loading weights: 100%") <= 1, "the model must load once per process"
    assert max(waits[1:]) < waits[0] + 5, f"later answers must not reload the model: {waits}"


def test_ask_names_the_part_of_a_question_the_document_does_not_answer(cli):
    code, out, _ = cli("ask", "How many employees does Xiaomi have, and who founded it?")
    assert code == 0
    answer, _, sources = out.partition("Sources:")
    assert "Lei Jun" in answer
    assert "Not in the document: “How many employees does Xiaomi have”" in answer
    assert "Company Background" in sources


@pytest.mark.parametrize("env, argv, code, fragment", [
    ({"ASSISTANT_EMBEDDING_MODEL": "/nope"}, ["index"], 2, "ASSISTANT_EMBEDDING_MODEL: no model folder at /nope"),
    ({"ASSISTANT_EMBEDDING_MODEL": "{tmp}"}, ["index"], 2, "is not a sentence-transformers model folder"),
    ({"ASSISTANT_CHROMA_URL": "http://127.0.0.1:1"}, ["ask", "hi"], 1, "cannot reach the Chroma server at http://127.0.0.1:1"),
    ({"ASSISTANT_DATA_DIR": "{file}"}, ["index"], 2, "is a file"),
    ({"ASSISTANT_API_KEY": ""}, ["ask", "hi"], 2, "ASSISTANT_API_KEY: Value error, is empty"),
    ({"ASSISTANT_API_KEY": "abc "}, ["ask", "hi"], 2, "ASSISTANT_API_KEY: Value error, must be printable ASCII"),
    ({"ASSISTANT_API_KEY": "clé-secrète"}, ["ask", "hi"], 2, "ASSISTANT_API_KEY: Value error, must be printable"),
    ({"ASSISTANT_CHROMA_URL": "notaurl"}, ["ask", "hi"], 2, "'notaurl' is no server URL"),
    ({"ASSISTANT_DOCUMENTS": ""}, ["index"], 2, "no documents to index"),
    ({"ASSISTANT_ABSTAIN_THRESHOLD": "5"}, ["ask", "hi"], 2, "ASSISTANT_ABSTAIN_THRESHOLD"),
    ({"ASSISTANT_ABSTAIN_THRESHOLD": "nan"}, ["ask", "hi"], 2, "ASSISTANT_ABSTAIN_THRESHOLD"),
    ({"ASSISTANT_DATA_DIR": "{tmp}/typo/data"}, ["ask", "hi"], 1, "no index yet"),
    ({"ASSISTANT_DATA_DIR": "{tmp}/typo/data"}, ["eval"], 1, "no index yet"),
    ({"ASSISTANT_DATA_DIR": ""}, ["index"], 2, "ASSISTANT_DATA_DIR: Value error, is empty"),
    ({"ASSISTANT_COLLECTION": "my docs"}, ["index"], 2, "'my docs' is no Chroma collection name"),
    ({"ASSISTANT_COLLECTION": ""}, ["ask", "hi"], 2, "ASSISTANT_COLLECTION"),
])
def test_a_bad_configuration_is_a_one_line_error_and_changes_nothing(env, argv, code, fragment, tmp_path,
                                                                      monkeypatch, capsys):
    (tmp_path / "a-file").write_text("x")
    for key, value in env.items():
        monkeypatch.setenv(key, value.format(tmp=tmp_path, file=tmp_path / "a-file"))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", env.get("ASSISTANT_DATA_DIR", str(tmp_path / "data")).format(
        tmp=tmp_path, file=tmp_path / "a-file"))
    assert main(argv) == code
    out, err = capsys.readouterr()
    assert err.startswith("error: ") and fragment in err and "Traceback" not in err
    assert not (tmp_path / "typo").exists()  # a mistyped data dir is not created


def test_bad_question_sets_and_output_paths_are_one_line_errors_before_the_run(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "q1", "type": "lookup", "question": "Who?", "gold_sections": []}\n{oops\n')
    tuned = tmp_path / "tuned.jsonl"
    tuned.write_text('{"id": "q1", "type": "lookup", "split": "tune", "question": "Who?", "gold_sections": []}\n')
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "q1", "type": "lookup", "question": "Who founded Xiaomi?", "gold_sections": []}\n')
    for argv, fragment in [
        (["eval", "--set", str(tmp_path / "none.jsonl")], "cannot read the question set"),
        (["eval", "--set", str(bad)], "bad.jsonl, line 2: not valid JSON"),
        (["eval", "--set", str(tuned), "--split", "heldout"], "no question has split 'heldout' (try --split all)"),
        (["eval", "--set", str(empty)], "no questions in the set"),
        (["eval", "--set", str(good), "--json", str(tmp_path / "no" / "r.json")], "cannot write the report"),
        (["eval", "--set", str(good), "--html", str(tmp_path / "no" / "r.html")], "cannot write the report"),
        (["feedback", "export", "--output", str(tmp_path / "no" / "x.csv")], "No such file or directory"),
    ]:
        code, out, err = cli(*argv)
        assert code in (1, 2) and err.startswith("error: ") and fragment in err, (argv, err)
        assert "hit@1" not in out  # nothing was run


def test_jsonl_with_a_question_on_the_command_line_is_an_error(cli):
    code, out, err = cli("ask", "--jsonl", "Who founded Xiaomi?", stdin='{"question": "x"}\n')
    assert code == 2 and "--jsonl reads the questions from stdin" in err and out == ""


def test_a_data_folder_that_is_a_file_is_named_as_such(tmp_path, capsys):
    not_a_folder = tmp_path / "notes.txt"
    not_a_folder.write_text("hello")
    assert main(["--data-dir", str(not_a_folder), "ask", "Who founded Xiaomi?"]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "99999", "http"])
def test_serve_rejects_a_port_out_of_range(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", port])
    assert exit_.value.code == 2 and "1 to 65535" in capsys.readouterr().err


def test_an_index_run_waits_for_one_in_progress_and_both_land(tmp_path, real_embedder, monkeypatch):
    """A cron job beside a manual run: the second waits for the first (here: the lock held by the
    test) instead of writing over it and dropping its document."""
    import fcntl

    monkeypatch.setattr("index.embeddings.build_embedder", lambda settings: real_embedder)
    (tmp_path / "canteen.txt").write_text("Canteen\nThe canteen opens at 8am on weekdays.\n")
    (tmp_path / "parking.md").write_text("# Parking\nVisitors park in bay C.\n")
    data = tmp_path / "data"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ASSISTANT_DATA_DIR": str(data)}
    data.mkdir()
    with open(data / "index.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        waiting = subprocess.Popen([str(PROJECT_DIR / ".venv" / "bin" / "assistant"), "index", "--quiet",
                                    str(tmp_path / "canteen.txt")], env=env, text=True,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        time.sleep(5)
        assert waiting.poll() is None, "the second run must wait for the lock"
        fcntl.flock(held, fcntl.LOCK_UN)
    assert main(["--data-dir", str(data), "index", "--quiet", str(tmp_path / "parking.md")]) == 0  # a third
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    assert "Waiting for another `assistant index` run" in err
    store = build_store(Settings(data_dir=data))
    assert {r.metadata["document"] for r in store.records(with_embeddings=False)} == {"canteen.txt", "parking.md"}


def test_a_copy_of_an_indexed_document_under_another_name_is_refused(tmp_path, real_embedder, monkeypatch, capsys):
    monkeypatch.setattr("index.embeddings.build_embedder", lambda settings: real_embedder)
    (tmp_path / "parking.md").write_text("# Parking\nVisitors park in bay C.\n")
    (tmp_path / "PARKING.MD").write_text("# Parking\nVisitors park in bay C.\n")
    data = str(tmp_path / "data")
    assert main(["--data-dir", data, "index", "--quiet", str(tmp_path / "parking.md")]) == 0
    assert main(["--data-dir", data, "index", "--quiet", str(tmp_path / "PARKING.MD")]) == 2
    assert "the same text as parking.md, already indexed" in capsys.readouterr().err
    store = build_store(Settings(data_dir=tmp_path / "data"))
    assert {r.metadata["document"] for r in store.records(with_embeddings=False)} == {"parking.md"}


def test_the_data_folder_may_follow_the_subcommand(cli, data_dir, capsys):
    assert main(["ask", "--data-dir", data_dir, "Who founded Xiaomi?"]) == 0
    assert "Lei Jun" in capsys.readouterr().out


def test_serve_on_a_port_in_use_fails_at_once_naming_the_setting(capsys):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        t0 = time.monotonic()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 1
    assert time.monotonic() - t0 < 5  # before the model is loaded
    assert "Address already in use" in capsys.readouterr().err


def test_serve_makes_no_request_outside_the_machine(data_dir, tmp_path):
    """Every outbound HTTPS request would go through this proxy: none arrives while the server
    starts and answers (Gradio's analytics and version check are off)."""
    import socket
    import threading
    import urllib.request

    seen: list[bytes] = []
    proxy = socket.socket()
    proxy.bind(("127.0.0.1", 0))
    proxy.listen()
    proxy.settimeout(0.5)

    def watch() -> None:
        while not stop.is_set():
            try:
                conn, _ = proxy.accept()
            except OSError:
                continue
            seen.append(conn.recv(200))
            conn.close()

    stop = threading.Event()
    threading.Thread(target=watch, daemon=True).start()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://127.0.0.1:{proxy.getsockname()[1]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADIO_")}
    local = "127.0.0.1,localhost"
    env.update({"HF_HUB_OFFLINE": "1", "ASSISTANT_DATA_DIR": data_dir, "HTTPS_PROXY": url, "HTTP_PROXY": url,
                "https_proxy": url, "http_proxy": url, "NO_PROXY": local, "no_proxy": local})
    server = subprocess.Popen([str(PROJECT_DIR / ".venv" / "bin" / "assistant"), "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    assert page.status == 200
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError("the server did not start")
        time.sleep(3)  # what Gradio sends, it sends at start
    finally:
        server.terminate()
        server.wait(timeout=30)
        stop.set()
        proxy.close()
    assert seen == []


def test_serve_without_the_chat_page_serves_the_api_alone(monkeypatch):
    calls: list[dict] = []
    monkeypatch.setattr("assistant.cli._build", lambda args: object())
    monkeypatch.setattr("ui.server.serve", lambda settings, assistant, **kw: calls.append(kw))
    with __import__("socket").socket() as free:
        free.bind(("127.0.0.1", 0))
        port = str(free.getsockname()[1])
    assert main(["serve", "--port", port, "--no-chat"]) == 0
    assert main(["serve", "--port", port]) == 0
    assert [c["chat"] for c in calls] == [False, True]


def test_status_lists_what_the_index_holds_and_remove_drops_one_document(tmp_path, real_embedder, monkeypatch,
                                                                        capsys):
    monkeypatch.setattr("index.embeddings.build_embedder", lambda settings: real_embedder)
    (tmp_path / "parking.md").write_text("# Parking\nVisitors park in bay C.\n")
    (tmp_path / "canteen.txt").write_text("Canteen\nThe canteen opens at 8am on weekdays.\n")
    data = str(tmp_path / "data")
    docs = [str(tmp_path / "parking.md"), str(tmp_path / "canteen.txt")]
    assert main(["--data-dir", data, "index", "--quiet", *docs]) == 0
    capsys.readouterr()
    assert main(["status", "--data-dir", data]) == 0
    out = capsys.readouterr().out
    assert "parking.md: 1 sections" in out and "canteen.txt: 1 sections" in out and "all-MiniLM-L6-v2" in out

    assert main(["--data-dir", data, "index", "--remove", "nothere.md"]) == 2
    assert "nothere.md: not in the index" in capsys.readouterr().err
    assert main(["--data-dir", data, "index", "--remove", docs[1]]) == 0  # its path names it too
    assert "Removed canteen.txt" in capsys.readouterr().out
    assert main(["--data-dir", data, "index", "--remove", "parking.md"]) == 2  # the last one
    assert "leave the index empty" in capsys.readouterr().err
    store = build_store(Settings(data_dir=tmp_path / "data"))
    assert {r.metadata["document"] for r in store.records(with_embeddings=False)} == {"parking.md"}
    assert main(["--data-dir", data, "ask", "When does the canteen open?"]) == 0
    assert "8am" not in capsys.readouterr().out
