"""Serves the agents' console page and its assets (no build step, nothing from a CDN), and the
style sheet that the signed-in pages share (the console, the administration at ``/admin``).

The page signs agents in through ``/api/v1/auth`` and works through ``/api/v1/console``.
It is served with a strict Content-Security-Policy (same origin only) and is never cached.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).parent / "static" / "console"
SHARED_STYLE = Path(__file__).parent / "static" / "shared" / "pages.css"
ASSETS = {"console.js": "text/javascript", "console.css": "text/css"}
#: Headers of the signed-in pages (the console, the administration): same origin only, never
#: framed, never cached.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


@router.api_route("/console", methods=["GET", "HEAD"])
def console_page() -> FileResponse:
    """The agents' console."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.api_route("/console/{asset}", methods=["GET", "HEAD"])
def console_asset(asset: str) -> FileResponse:
    """The console's script and style sheet."""
    if asset not in ASSETS:
        raise HTTPException(404, {"code": "not_found", "message": "Page introuvable."})
    return FileResponse(STATIC_DIR / asset, media_type=ASSETS[asset], headers=PAGE_HEADERS)


@router.api_route("/shared/pages.css", methods=["GET", "HEAD"])
def shared_style() -> FileResponse:
    """The look of the signed-in pages: header, forms, buttons, tables."""
    return FileResponse(SHARED_STYLE, media_type="text/css", headers=PAGE_HEADERS)
