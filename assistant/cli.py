"""The `assistant` command: index, ask, serve, eval, bench.

Usage::

    assistant index [PATH ...]            # default: the configured/bundled document(s)
    assistant index --remove NAME ...     # drop documents, keep the others
    assistant status                      # what the index holds
    assistant ask "In what year was Xiaomi founded?"
    assistant ask --json "..."            # one JSON object
    echo '{"question": "..."}' | assistant ask --jsonl
    assistant serve [--host H] [--port P] [--no-chat]
    assistant feedback export [--format jsonl|csv] [--output FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

EXIT_BAD_INPUT = 2


def _settings(args: argparse.Namespace) -> Any:
    from assistant.settings import Settings

    overrides: dict[str, Any] = {}
    if getattr(args, "data_dir", None):
        overrides["data_dir"] = args.data_dir
    return Settings(**overrides)


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


# --- index ---------------------------------------------------------------------
def cmd_index(args: argparse.Namespace) -> int:
    from assistant.abstain import ChitChat
    from index.embeddings import build_embedder
    from index.pipeline import index_documents, remove_documents, tqdm_progress
    from index.sections import DocumentError
    from index.store import build_store

    settings = _settings(args)
    if settings.data_dir.exists() and not settings.data_dir.is_dir():
        return _fail(f"the data folder {settings.data_dir} is a file: point --data-dir (ASSISTANT_DATA_DIR) "
                     "at a folder.", EXIT_BAD_INPUT)
    if args.remove:
        if args.paths or args.replace:
            return _fail("--remove takes document names alone: give no paths and no --replace.", EXIT_BAD_INPUT)
        names = [Path(name).name for name in args.remove]  # documents are known by file name: "docs/a.md" is "a.md"
        with _index_lock(settings.data_dir):
            try:
                report = remove_documents(names, build_store(settings, create=False))
            except DocumentError as exc:
                return _fail(f"{exc}. The existing index is unchanged.", EXIT_BAD_INPUT)
        print(f"Removed {', '.join(names)} ({report.removed} chunks); the index holds "
              f"{', '.join(report.documents)}: {report.sections} sections, {report.chunks} chunks.")
        return 0
    paths = [Path(p) for p in args.paths] or list(settings.documents)
    # Each run reads the stored documents and writes them back with its own: two at once would
    # each drop the other's. One waits for the other (a cron job beside a manual run).
    with _index_lock(settings.data_dir):
        try:
            store = build_store(settings)
            embedder = build_embedder(settings)
            report = index_documents(paths, store, embedder, max_tokens=settings.chunk_tokens,
                                     replace=args.replace, progress=None if args.quiet else tqdm_progress)
        except DocumentError as exc:
            return _fail(f"{exc}. The existing index is unchanged.", EXIT_BAD_INPUT)
        ChitChat(embedder, cache_dir=settings.data_dir).vectors()  # kept beside the index: a cold ask reads them
    print(report.summary())
    return 0


@contextlib.contextmanager
def _index_lock(data_dir: Path) -> Iterator[None]:
    """An exclusive lock on ``data_dir/index.lock`` for one index run (one machine; with a Chroma
    server, runs from several machines are not serialised)."""
    import fcntl

    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / "index.lock", "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for another `assistant index` run on {data_dir} to finish ...", file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- status ------------------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    """What the live index holds, read from the store alone (no model is loaded)."""
    from index.store import build_store

    settings = _settings(args)
    store = build_store(settings, create=False)
    records = store.records(with_embeddings=False)
    sections: dict[str, int] = {}
    chunks: dict[str, int] = {}
    for r in records:
        name = str(r.metadata.get("document"))
        chunks[name] = chunks.get(name, 0) + 1
        if r.metadata.get("kind") == "title":
            sections[name] = sections.get(name, 0) + 1
    print(f"Index: {settings.chroma_url or settings.chroma_dir} (collection {settings.collection})")
    print(f"Generation: {store.active_generation()}")
    print(f"Embedding model: {store.built_with() or 'unknown'}")
    for name in sorted(chunks):
        print(f"  {name}: {sections.get(name, 0)} sections, {chunks[name]} chunks")
    return 0


# --- ask -----------------------------------------------------------------------
def format_answer(answer: Any) -> str:
    lines = [answer.answer]
    if getattr(answer, "not_answered", None):
        lines.append("Not in the document: " + "; ".join(f"“{p}”" for p in answer.not_answered))
    if answer.citations:
        lines += ["", "Sources:"]
        for i, c in enumerate(answer.citations, 1):
            lines.append(f"[{i}] {' > '.join(c.path)} ({c.document})")
            lines.append(f'    "{c.quote}"')
    return "\n".join(lines)


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.service import QuestionError

    if args.jsonl and args.question:
        return _fail("--jsonl reads the questions from stdin: give no question on the command line.",
                     EXIT_BAD_INPUT)
    if not args.jsonl:
        question = " ".join(args.question)
        if not question.strip():
            return _fail("the question is empty: ask something about the document.", EXIT_BAD_INPUT)
    assistant = _build(args)
    if assistant is None:
        return 1
    if args.jsonl:
        return _ask_jsonl(assistant)
    try:
        if args.json:
            print(json.dumps(assistant.ask(question).to_json(), ensure_ascii=False))
            return 0
        answer = None
        streamed: list[str] = []
        for kind, value in assistant.stream(question):
            if kind == "token":
                streamed.append(value)
                sys.stdout.write(value)
                sys.stdout.flush()
            elif kind == "answer":
                answer = value
        sys.stdout.write("\n")
        if answer and " ".join("".join(streamed).split()) != " ".join(answer.answer.split()):
            # An LLM's raw text differs from what validation kept (unsupported sentences, renumbered
            # markers, or an extractive fallback): show the checked answer the citations belong to.
            print(f"\nChecked answer ({answer.answered_by}):\n{answer.answer}")
        if answer and (answer.citations or answer.not_answered):
            print("\n".join(format_answer(answer).split("\n")[1:]))
        return 0
    except QuestionError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)


def _ask_jsonl(assistant: Any) -> int:
    from assistant.service import QuestionError, misspelt_field

    status = 0
    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 become U+FFFD, not a traceback
        sys.stdin.reconfigure(errors="replace")
    for line_no, line in enumerate(sys.stdin, 1):
        if line_no == 1:
            line = line.removeprefix("\ufeff")  # a byte order mark, as editors on Windows write
        if not line.strip():
            continue  # blank lines are no questions: they get no output line
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise QuestionError("each line must be a JSON object with a question")
            if isinstance(item.get("question", ""), str) and (slip := misspelt_field(item)):
                raise QuestionError(slip)  # after a wrong type, which is reported as itself
            out = assistant.ask(item.get("question"), item.get("history")).to_json()
        except (json.JSONDecodeError, QuestionError) as exc:
            out = {"error": f"line {line_no}: {exc}"}
            status = EXIT_BAD_INPUT
        except RecursionError:  # JSON nested thousands of levels deep
            out = {"error": f"line {line_no}: the JSON is nested too deeply"}
            status = EXIT_BAD_INPUT
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return status


def _build(args: argparse.Namespace) -> Any:
    """The assistant over a usable index; a missing or mismatched index raises, for main() to report."""
    from assistant.service import build_assistant

    settings = _settings(args)
    try:
        assistant = build_assistant(settings)
        assistant.search.catalog()
        return assistant
    except Exception as exc:  # a misconfigured ASSISTANT_LLM backend: its message says what to do
        from assistant.llm import LLMConfigError

        if not isinstance(exc, LLMConfigError):
            raise
        _fail(str(exc))
        return None


# --- serve ---------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    settings = _settings(args)
    host = args.host or settings.host
    port = args.port or settings.port
    problem = _cannot_listen(host, port)  # before the warm-up, not after it
    if problem:
        return _fail(f"cannot listen on {host}:{port}: {problem}. Choose another --port (ASSISTANT_PORT) "
                     "or --host (ASSISTANT_HOST).")
    assistant = _build(args)
    if assistant is None:
        return 1
    from ui.server import serve

    serve(settings, assistant, host=host, port=port, chat=not args.no_chat)
    return 0


def _cannot_listen(host: str, port: int) -> str | None:
    """Why a server could not bind ``host:port`` (in use, no such address), or None."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        return f"no such address ({exc.strerror})"
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


# --- feedback ------------------------------------------------------------------
def cmd_feedback_export(args: argparse.Namespace) -> int:
    from assistant.feedback import FeedbackStore

    store = FeedbackStore.for_settings(_settings(args))
    if args.output is None or str(args.output) == "-":
        count = store.export(args.format, sys.stdout)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            count = store.export(args.format, out)
    print(f"exported {count} rating(s) as {args.format}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Cited answers about your documents.")
    parser.add_argument("--data-dir", type=Path, help="index folder (default: ASSISTANT_DATA_DIR)")
    # ... also after the subcommand ("assistant ask --data-dir X ..."); given there, it wins.
    data_dir = argparse.ArgumentParser(add_help=False)
    data_dir.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS, help="index folder")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index .txt/.md documents (default: the bundled document)", parents=[data_dir])
    p.add_argument("paths", nargs="*", help="documents to index")
    p.add_argument("--replace", action="store_true", help="drop documents not named here from the index")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--remove", nargs="+", metavar="NAME",
                   help="drop these documents (file names; a path names its file) and keep the others")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("status", help="what the index holds: documents, sections, embedding model", parents=[data_dir])
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("ask", help="ask a question", parents=[data_dir])
    p.add_argument("question", nargs="*", help="the question")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one JSON object")
    fmt.add_argument("--jsonl", action="store_true", help="read JSON lines on stdin, write one per input")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="serve the chat, the HTTP API and the widget", parents=[data_dir])
    p.add_argument("--host", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=_port, help="port, 1-65535 (default 7860)")
    p.add_argument("--no-chat", action="store_true",
                   help="leave out the chat page at / (API and widget only: with ASSISTANT_API_KEY, every question "
                        "needs the key)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("feedback", help="ratings given to answers in the chat/widget/API", parents=[data_dir])
    fsub = p.add_subparsers(dest="feedback_command", required=True)
    p = fsub.add_parser("export", help="write every rating as JSON lines or CSV", parents=[data_dir])
    p.add_argument("--format", choices=["jsonl", "csv"], default="jsonl", help="default jsonl")
    p.add_argument("--output", type=Path, help="file to write (default: stdout)")
    p.set_defaults(func=cmd_feedback_export)

    for name, module, helptext in (
        ("eval", "assistant.evaluate", "run the evaluation set and print the metrics"),
        ("bench", "assistant.bench", "measure index time, latency and memory"),
    ):
        p = sub.add_parser(name, help=helptext, add_help=False, parents=[data_dir])
        p.set_defaults(func=_delegate(module), delegated=True)
    return parser


def _delegate(module: str) -> Any:
    def run(args: argparse.Namespace) -> int:
        import importlib

        return int(importlib.import_module(module).main(args.rest, data_dir=args.data_dir) or 0)  # type: ignore[no-any-return]

    return run


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no call to api.gradio.app on start
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "delegated", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.rest = rest
    from pydantic import ValidationError

    from assistant.evaluate import EvalSetError
    from assistant.lexicon import LexiconError
    from index.embeddings import EmbedderError
    from index.store import EmbedderMismatchError, IndexMissingError, StoreUnavailableError

    try:
        return int(args.func(args) or 0)
    except ValidationError as exc:  # an ASSISTANT_* variable out of range or pointing nowhere
        problems = "; ".join(f"ASSISTANT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        return _fail(f"invalid setting: {problems}", EXIT_BAD_INPUT)
    except (LexiconError, EmbedderError, EvalSetError) as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except IndexMissingError:
        data_dir = _settings(args).data_dir
        if data_dir.exists() and not data_dir.is_dir():
            return _fail(f"the data folder {data_dir} is a file: point --data-dir (ASSISTANT_DATA_DIR) at a folder.",
                         EXIT_BAD_INPUT)
        return _fail("no index yet: run `assistant index` (or `make run`) first.")
    except (StoreUnavailableError, EmbedderMismatchError) as exc:
        message = str(exc)
        return _fail(message if message.endswith((".", "?", "!")) else message + ".")
    except OSError as exc:  # a data dir, output file or set path that cannot be used
        where = f": {exc.filename}" if exc.filename else ""
        return _fail(f"{exc.strerror or exc}{where}")


if __name__ == "__main__":
    sys.exit(main())
