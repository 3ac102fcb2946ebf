"""One web server: the Gradio chat at /, the HTTP API, the embeddable widget, health and docs.

Usage::

    app = create_app(Settings(), assistant)       # e.g. for TestClient or another ASGI server
    serve(settings, assistant, host="127.0.0.1", port=7860)   # what `assistant serve` runs

Routes: ``/`` chat, ``POST /api/ask``, ``POST /api/ask/stream`` (SSE), ``POST /api/feedback``,
``GET /healthz``, ``/embed.js``, ``/widget``, ``/embed/demo``, OpenAPI docs at ``/docs``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI

from assistant.service import Assistant
from assistant.settings import Settings
from ui.api import build_api, document_security, install_error_handlers
from ui.security import ApiGuard, HostGuard, HostPolicy, OriginPolicy, RateLimiter
from ui.widget import build_widget_routes

log = logging.getLogger(__name__)


def create_app(settings: Settings, assistant: Assistant, feedback: Any | None = None,
               chat: bool = True, bind_host: str | None = None) -> FastAPI:
    """Build the FastAPI app; ``chat=False`` leaves out the Gradio UI (faster API-only tests).
    ``bind_host`` is the address it will be served on: bound to a loopback address, it answers
    only localhost names unless ``ASSISTANT_ALLOWED_HOSTS`` lists others (see HostPolicy). Left
    out (tests, another ASGI server), only ``ASSISTANT_ALLOWED_HOSTS`` limits the host names:
    pass the address the server binds to, or list the names."""
    if feedback is None:
        from assistant.feedback import FeedbackStore

        feedback = FeedbackStore.for_settings(settings)
    app = FastAPI(title="Document assistant", version="1", description=(
        "Cited answers about the indexed documents. `/api/*` may require `Authorization: Bearer "
        "<key>` (ASSISTANT_API_KEY) and is rate limited per client."))
    policy = OriginPolicy(settings.allowed_origins)
    app.add_middleware(ApiGuard, settings=settings, policy=policy, limiter=RateLimiter(settings.rate_limit))
    install_error_handlers(app)
    app.include_router(build_api(settings, assistant, feedback))
    document_security(app, keyed=settings.api_key is not None)
    app.include_router(build_widget_routes(policy))
    if chat:  # mounted last: "/" catches every path not routed above
        import gradio as gr

        from ui.chat import build_chat

        app = gr.mount_gradio_app(app, build_chat(settings, assistant, feedback), path="/",
                                  footer_links=["api"], show_error=False)
    app.add_middleware(HostGuard, policy=HostPolicy(settings.allowed_hosts, bind_host))  # outermost
    return app


def serve(settings: Settings, assistant: Assistant, host: str = "127.0.0.1", port: int = 7860,
          chat: bool = True) -> None:
    """Warm the assistant up (first answer is fast), then serve until interrupted."""
    import uvicorn

    print("Warming up the assistant ...", flush=True)
    assistant.warm_up()
    app = create_app(settings, assistant, chat=chat, bind_host=host)
    print((f"Chat: http://{host}:{port}/   " if chat else "No chat page (--no-chat).   ")
          + f"API docs: http://{host}:{port}/docs   Widget demo: http://{host}:{port}/embed/demo", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=3)
