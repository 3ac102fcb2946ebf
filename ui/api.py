"""The HTTP API: ask, ask with streaming (SSE), feedback, health; every error is JSON.

Usage::

    app.include_router(build_api(settings, assistant, feedback))
    install_error_handlers(app)

Bad input is answered with ``{"error": message}`` and a 4xx code, never a 500: malformed JSON
400, wrong types / empty question / malformed history 422, an over-long question 413. Answers
run in a threadpool; at most ``settings.max_concurrency`` at once, more get 503 + Retry-After.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, Literal

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, StrictStr
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from assistant.models import Answer
from assistant.service import Assistant, QuestionError, clean_question, misspelt_field, parse_history
from assistant.settings import Settings
from index.store import EmbedderMismatchError, StoreUnavailableError
from ui.security import ConcurrencyLimit

STREAM_EVENTS = ("token", "answer", "error")


_TURN: Any = {"type": "object", "required": ["role", "content"], "properties": {
    "role": {"type": "string", "enum": ["user", "assistant"]}, "content": {"type": "string"}}}


class AskRequest(BaseModel):
    """One question, with the conversation so far (as one `assistant ask --jsonl` input line)."""

    # Other fields are kept aside (and ignored) only to catch a misspelt one ("histroy").
    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [
        {"question": "In what year was Xiaomi founded, and by whom?", "history": []}]})
    question: StrictStr = Field(description="The question, 1 to max_question_chars characters.")
    # Validated by parse_history (its messages name the bad turn); the schema documents the shape.
    history: list[Any] | None = Field(
        None, description='Earlier turns: [{"role": "user"|"assistant", "content": str}, ...], oldest first.',
        json_schema_extra=lambda schema: schema["anyOf"][0].update(items=_TURN))  # type: ignore[index, union-attr]


class FeedbackRequest(BaseModel):
    """A thumbs up or down on one answer."""

    question: StrictStr = Field(description="The question that was asked.")
    answer: dict[str, Any] = Field(description="The answer object exactly as /api/ask returned it.")
    rating: Literal["up", "down"]
    source: Literal["widget", "api"] = Field("api", description="Which front end sent it.")


class ErrorBody(BaseModel):
    error: str


# The response bodies, for /openapi.json only: Answer.to_json() writes them.
class CitationBody(BaseModel):
    document: str = Field(description="The source file name.")
    section: str = Field(description='The heading exactly as in the document ("Introduction" for the opening).')
    path: list[str] = Field(description="The heading path, outermost first.")
    quote: str = Field(description="Verbatim, contiguous text of the section.")
    score: float = Field(description="The section's fused retrieval score: higher is nearer (for ordering only).")


class AnswerBody(BaseModel):
    answer: str = Field(description="The answer text with [n] markers, or the refusal.")
    abstained: bool = Field(description="True when the documents do not answer (citations are then empty).")
    answered_by: str = Field(description='"extractive" or the LLM backend.')
    citations: list[CitationBody] = Field(description="Most relevant first.")
    query: str = Field(description="The standalone query actually searched (follow-ups rewritten, slips mended).")
    reason: str | None = Field(None, description="When abstaining: not_in_document, injection, off_topic or greeting.")
    not_answered: list[str] | None = Field(None, description="Parts of the question the documents do not answer.")
    unsupported: list[str] | None = Field(None, description="LLM sentences no section supports.")


class FeedbackBody(BaseModel):
    id: int
    rating: Literal["up", "down"]


class HealthErrorBody(BaseModel):
    status: Literal["error"]
    error: str


class HealthBody(BaseModel):
    status: Literal["ok"]
    answerer: str
    sections: int
    sentences: int
    documents: list[str]
    generation: str | None


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text} for code, text in (
        (400, "Malformed JSON"), (401, "Missing or wrong API key"), (403, "Origin not allowed (CORS)"),
        (413, "Question too long, or a body over 1 MiB"), (415, "Body not sent as application/json"),
        (422, "Empty question, wrong types or malformed history"), (429, "Rate limit (Retry-After)"),
        (503, "Server busy (Retry-After), or the index cannot be searched (the message says why)"))
}


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class TooLong(QuestionError):
    """The question is over ``max_question_chars``: HTTP 413."""


def question_status(exc: QuestionError) -> int:
    return 413 if isinstance(exc, TooLong) else 422


def sse(event: str, data: dict[str, Any]) -> str:
    """One Server-Sent Event; data is JSON on one line, so newlines in text are safe."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


class SlotStreamingResponse(StreamingResponse):
    """A streaming response that frees its answer slot however it ends (done, error, disconnect)."""

    def __init__(self, release: Callable[[], None], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()


def build_api(settings: Settings, assistant: Assistant, feedback: Any | None = None) -> APIRouter:
    """The /api/* and /healthz routes over one Assistant (and an optional FeedbackStore)."""
    router = APIRouter()
    slots = ConcurrencyLimit(settings.max_concurrency)
    busy = {"Retry-After": "1"}

    def validate(body: AskRequest) -> tuple[str, list[Any]]:
        if slip := misspelt_field({**(body.model_extra or {}), **dict.fromkeys(body.model_fields_set)}):
            raise QuestionError(slip)
        if len(body.question) > settings.max_question_chars:
            raise TooLong(f"The question is too long ({len(body.question)} characters; "
                          f"at most {settings.max_question_chars}).")
        return clean_question(body.question, settings.max_question_chars), parse_history(body.history)

    def admit(body: AskRequest) -> tuple[str, list[Any]] | JSONResponse:
        """The validated question and history with an answer slot taken, or the error response."""
        try:
            question, history = validate(body)
        except QuestionError as exc:
            return error(question_status(exc), str(exc))
        if not slots.try_acquire():
            return error(503, "The assistant is busy: retry in a moment.", busy)
        return question, history

    @router.post("/api/ask", tags=["api"], responses={200: {"model": AnswerBody}, **ERRORS},
                 summary="Ask a question; the same JSON object as one `assistant ask --jsonl` line")
    async def ask(body: AskRequest) -> JSONResponse:
        admitted = admit(body)
        if isinstance(admitted, JSONResponse):
            return admitted
        question, history = admitted
        try:
            answer: Answer = await run_in_threadpool(assistant.ask, question, history)
        except QuestionError as exc:
            return error(question_status(exc), str(exc))
        finally:
            slots.release()
        return JSONResponse(answer.to_json())

    @router.post("/api/ask/stream", tags=["api"], responses={
        **ERRORS, 200: {"content": {"text/event-stream": {}}, "description": (
            "Server-Sent Events: `token` events ({\"text\": str}) as the answer forms, then one "
            "`answer` event with the full answer object (citations included); `error` "
            "({\"error\": str}) if answering fails midway.")}},
        summary="Ask a question; stream the answer as Server-Sent Events", response_class=StreamingResponse)
    async def ask_stream(body: AskRequest) -> Any:
        admitted = admit(body)
        if isinstance(admitted, JSONResponse):
            return admitted
        question, history = admitted
        # The question is checked and searched before the stream opens (with the extractive
        # answerer, the whole answer; with an LLM, up to its first token): a failure there (an
        # index rebuilt with another model, a Chroma server down) is the same status and message
        # as /api/ask's, not a 200 with an error event. The slot is the response's once it exists.
        opened = False
        try:
            stream = assistant.stream(question, history)
            first = await run_in_threadpool(next, stream, None)
            opened = True
        except QuestionError as exc:
            return error(question_status(exc), str(exc))
        finally:
            if not opened:  # an error or a cancelled request
                slots.release()

        def events() -> Iterator[str]:
            try:
                for kind, value in itertools.chain([first] if first else [], stream):
                    if kind == "answer":
                        yield sse("answer", value.to_json())
                    elif kind == "token":
                        yield sse("token", {"text": value})
            except Exception as exc:  # noqa: BLE001 - reported to the client, the stream is already open
                yield sse("error", {"error": failure(exc)[1]})

        async def body_iter() -> AsyncIterator[str]:
            async for chunk in iterate_in_threadpool(events()):
                yield chunk

        return SlotStreamingResponse(slots.release, body_iter(), media_type="text/event-stream",
                                     headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    @router.post("/api/feedback", tags=["api"], status_code=201, responses={
        201: {"model": FeedbackBody, "description": "Recorded"}, **ERRORS,
        503: {"model": ErrorBody, "description": "Busy (Retry-After), or feedback not enabled on this server"}},
        summary="Record a thumbs up/down on an answer")
    async def post_feedback(body: FeedbackRequest) -> JSONResponse:
        if feedback is None:
            return error(503, "Feedback is not enabled on this server.")
        if not body.question.strip() or not isinstance(body.answer.get("answer"), str):
            return error(422, "question must be non-empty and answer must be an answer object.")
        if len(body.question) > settings.max_question_chars:
            return error(413, f"The question is too long (at most {settings.max_question_chars}).")
        try:
            row = await run_in_threadpool(feedback.record, body.question, body.answer, body.rating, body.source)
        except ValueError as exc:
            return error(422, str(exc))
        return JSONResponse({"id": row, "rating": body.rating}, status_code=201)

    @router.api_route("/api/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"],
                      include_in_schema=False)
    async def unknown(rest: str, request: Request) -> JSONResponse:
        """Unrouted /api/* paths answer in the API's error shape (not the chat app's 404 page)."""
        path = request.url.path
        allowed = sorted({m for r in router.routes if getattr(r, "path", None) == path
                          for m in getattr(r, "methods", ()) if m != "HEAD"})
        if allowed:
            return error(405, f"Use {', '.join(allowed)} for {path}.", {"Allow": ", ".join(allowed)})
        return error(404, f"No such endpoint: {path} (see /docs).")

    @router.get("/healthz", tags=["health"], summary="Status, index size and answerer", responses={
        200: {"model": HealthBody}, 503: {"model": HealthErrorBody, "description": "The index cannot be read"}})
    async def healthz() -> JSONResponse:
        try:
            return JSONResponse(await run_in_threadpool(assistant.health))
        except Exception as exc:  # noqa: BLE001 - a health check reports, it does not crash
            return JSONResponse({"status": "error", "error": f"{type(exc).__name__}: {exc}"}, status_code=503)

    router.add_api_route("/healthz", healthz, methods=["HEAD"], include_in_schema=False)  # uptime checkers

    return router


def document_security(app: FastAPI, keyed: bool) -> None:
    """/openapi.json names the bearer key /api/* takes when ASSISTANT_API_KEY is set (``keyed``;
    Swagger UI's Authorize button); the key itself is checked by ui.security.ApiGuard."""
    make_schema = app.openapi

    def schema() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = make_schema()
            spec.setdefault("components", {}).setdefault("securitySchemes", {})["bearer"] = {
                "type": "http", "scheme": "bearer",
                "description": "Needed when the server sets ASSISTANT_API_KEY: `Authorization: Bearer <key>`."}
            for path, operations in spec.get("paths", {}).items():
                if keyed and path.startswith("/api/"):
                    for operation in operations.values():
                        operation["security"] = [{"bearer": []}]
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = schema  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """Validation and HTTP errors as ``{"error": message}``: 400 for bad JSON, 422 for the rest."""

    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind != "application/json" and any(e.get("loc", ())[:1] == ("body",) for e in errors):
            return error(415, "Send the body as JSON with the header Content-Type: application/json.")
        if any(e.get("type") == "json_invalid" for e in errors):
            return error(400, "Malformed JSON in the request body.")
        if request.url.path.startswith("/api/ask") and isinstance(exc.body, dict) and any(
                e.get("type") == "missing" for e in errors) and (slip := misspelt_field(exc.body)):
            return error(422, slip)  # {"questoin": ...}: the slip, not "question: Field required"
        if any(e.get("loc") == ("body",) for e in errors):
            shape = ('{"question": "...", "answer": {...}, "rating": "up"}' if request.url.path == "/api/feedback"
                     else '{"question": "...", "history": []}')
            return error(422, f"The body must be a JSON object like {shape}.")
        parts = []
        for e in errors[:5]:
            loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
            parts.append(f"{loc}: {e.get('msg', 'invalid')}")
        return error(422, "; ".join(parts))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 400 and message == "There was an error parsing the body":  # not UTF-8
            message = "Malformed JSON in the request body: send it as UTF-8."
        return error(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        status, message = failure(exc)
        return error(status, message, {"Retry-After": "5"} if status == 503 else None)

    @app.exception_handler(EmbedderMismatchError)
    async def on_mismatch(request: Request, exc: EmbedderMismatchError) -> JSONResponse:
        # The index was rebuilt with another model while this server ran: retrying will not help.
        return error(*failure(exc))


def failure(exc: Exception) -> tuple[int, str]:
    """The status and message of an answer that failed: every error is JSON, a crash too; a Chroma
    server that is down, or an index rebuilt with another model while the server ran, is a 503."""
    name = type(exc).__name__
    if isinstance(exc, EmbedderMismatchError):
        return 503, f"The index cannot be searched: {exc}; or restart the server with the index's model."
    if isinstance(exc, StoreUnavailableError | ConnectionError):
        why = str(exc) if isinstance(exc, StoreUnavailableError) else f"the index store cannot be reached ({name})"
        return 503, f"{why[:1].upper()}{why[1:]}; retry shortly."
    return 500, f"The assistant failed: {name}."
