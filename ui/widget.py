"""The embeddable widget: /embed.js (the one tag), /widget (the framed chat page), /embed/demo.

Usage::

    app.include_router(build_widget_routes(policy))

The widget page is plain HTML + JS from ``ui/static`` with a strict Content-Security-Policy:
scripts and styles only from this server, no inline script, ``frame-ancestors`` from the
:class:`~ui.security.OriginPolicy`; text is always inserted with ``textContent``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse, Response

from ui.security import OriginPolicy

STATIC_DIR = Path(__file__).resolve().parent / "static"
ASSETS = {"widget.js": "text/javascript", "widget.css": "text/css"}


def widget_csp(policy: OriginPolicy) -> str:
    """No inline script, nothing from elsewhere, framed only by allowed origins."""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; base-uri 'none'; form-action 'none'; " + policy.frame_ancestors())


def build_widget_routes(policy: OriginPolicy) -> APIRouter:
    """Routes serving the loader script, the framed chat page and its assets, and the demo page."""
    router = APIRouter(include_in_schema=False)
    csp = widget_csp(policy)

    @router.api_route("/embed.js", methods=["GET", "HEAD"])
    def embed_js() -> Response:
        return FileResponse(STATIC_DIR / "embed.js", media_type="text/javascript", headers={
            "Cache-Control": "no-cache", "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff"})

    @router.api_route("/widget", methods=["GET", "HEAD"])
    def widget_page() -> Response:
        return FileResponse(STATIC_DIR / "widget.html", media_type="text/html", headers={
            "Content-Security-Policy": csp, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer", "Cache-Control": "no-cache"})

    @router.get("/widget/assets/{name}")
    def widget_asset(name: str) -> Response:
        if name not in ASSETS:
            return Response(status_code=404)
        return FileResponse(STATIC_DIR / name, media_type=ASSETS[name],
                            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"})

    @router.api_route("/embed/demo", methods=["GET", "HEAD"])
    def demo() -> HTMLResponse:
        return HTMLResponse((STATIC_DIR / "demo.html").read_text(encoding="utf-8"))

    return router
