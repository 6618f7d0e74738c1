"""The review web app: Starlette on uvicorn, bound to 127.0.0.1, one random token per server.

Every request must carry the token (``?t=`` or the ``X-Assetkit-Token`` header), else 403.
Asset URLs are ids (``/img/a-…``), never paths: nothing outside the campaign's listed files can
be served. Request bodies are capped; the access log never shows the token.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from urllib.parse import parse_qsl, urlencode

from .catalog import ReviewAsset
from .pages import render_gallery, render_view
from .service import DecisionRefused, ReviewService
from .states import STATE_LABELS, STATES
from .thumbs import ThumbCache

MAX_BODY = 64 * 1024
MEDIA = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp"}
FILTER_KEYS = ("status", "locale", "format", "severity")
log = logging.getLogger("assetkit.review")


def redact(query: str) -> str:
    """A query string without the token (for logs)."""
    return urlencode([(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "t"])


def create_app(service: ReviewService, token: str | None = None, access_log=None):
    """The ASGI app for ``service``; ``token`` defaults to a fresh random one (``app.state.token``)."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import (
        HTMLResponse,
        JSONResponse,
        PlainTextResponse,
        Response,
    )
    from starlette.routing import Route

    token = token or secrets.token_urlsafe(24)
    thumbs = ThumbCache()

    def q(path: str) -> str:
        return f"{path}?t={token}"

    def nonce_headers(nonce: str) -> dict:
        return {"Content-Security-Policy": (f"default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
                                            f"script-src 'nonce-{nonce}'; connect-src 'self'; base-uri 'none'; "
                                            "form-action 'none'; frame-ancestors 'none'"),
                "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}

    def lookup(request: Request) -> ReviewAsset | None:
        return service.catalog.asset(request.path_params["ident"])

    def not_found(what: str) -> Response:
        return PlainTextResponse(f"not found: {what}\n", status_code=404)

    def gallery(request: Request) -> Response:
        cat = service.catalog
        states = service.states()
        nonce = secrets.token_urlsafe(12)
        filters = {k: request.query_params.get(k, "") for k in FILTER_KEYS}
        html = render_gallery(cat, states, token=token, reviewer=service.reviewer, filters=filters,
                              href=lambda a: q(f"/asset/{a.id}"), thumb=lambda a: q(f"/img/{a.id}/thumb"),
                              nonce=nonce)
        return HTMLResponse(html, headers=nonce_headers(nonce))

    def view(request: Request) -> Response:
        a = lookup(request)
        if a is None:
            return not_found("no asset with this id in the campaign")
        cat = service.catalog
        nonce = secrets.token_urlsafe(12)
        html = render_view(cat, service.states(), a, token=token, reviewer=service.reviewer,
                           href=lambda x: q(f"/asset/{x.id}"), full=q(f"/img/{a.id}/full"),
                           back=q("/") + f"#{a.id}", nonce=nonce, history=service.decisions(),
                           overlay_on=request.query_params.get("overlay") == "1")
        return HTMLResponse(html, headers=nonce_headers(nonce))

    def image(request: Request) -> Response:
        a = lookup(request)
        kind = request.path_params["kind"]
        if a is None or kind not in ("thumb", "full"):
            return not_found("no asset with this id in the campaign")
        sha = service.catalog.current_sha256(a)
        if sha is None:
            return not_found(f"{a.label}: its file is missing")
        headers = {"Cache-Control": "private, max-age=3600", "ETag": f'"{sha[:32]}-{kind}"',
                   "X-Content-Type-Options": "nosniff"}
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        data = thumbs.get(service, a, sha) if kind == "thumb" else service.catalog.read_bytes(a)
        if data is None:
            return not_found(f"{a.label}: its file is missing")
        media = "image/jpeg" if kind == "thumb" else MEDIA.get(a.ext, "application/octet-stream")
        return Response(data, media_type=media, headers=headers)

    def state(request: Request) -> Response:
        states = service.states()
        total = {s: 0 for s in STATES}
        for st in states.values():
            total[st.state] += 1
        from .pages import master_summary

        masters = {mid: master_summary([states[a] for a in m.assets]) for mid, m in service.catalog.masters.items()}
        return JSONResponse({"campaign": service.catalog.campaign, "total": total, "labels": STATE_LABELS,
                             "masters": masters, "states": {aid: st.to_dict() for aid, st in states.items()}},
                            headers={"Cache-Control": "no-store"})

    async def decide(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return JSONResponse({"error": "send the decision as application/json"}, status_code=415)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
            return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return JSONResponse({"error": f"request body over {MAX_BODY} bytes"}, status_code=413)
            chunks.append(chunk)
        try:
            body = json.loads(b"".join(chunks).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return JSONResponse({"error": f"the body is not valid JSON ({exc})"}, status_code=400)
        from starlette.concurrency import run_in_threadpool

        try:
            decision, states = await run_in_threadpool(service.decide, body)
        except DecisionRefused as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        return JSONResponse({"decision": decision.to_dict(), "states": {a: s.to_dict() for a, s in states.items()}},
                            status_code=201)

    routes = [
        Route("/", gallery, methods=["GET"]),
        Route("/asset/{ident:str}", view, methods=["GET"]),
        Route("/img/{ident:str}/{kind:str}", image, methods=["GET"]),
        Route("/api/state", state, methods=["GET"]),
        Route("/api/decisions", decide, methods=["POST"]),
    ]
    return ReviewApp(Starlette(routes=routes), token, service, access_log or (lambda line: log.info(line)), thumbs)


class ReviewApp:
    """The token gate and access log around the Starlette app (an ASGI callable)."""

    def __init__(self, inner, token: str, service: ReviewService, write_log, thumbs: ThumbCache):
        self.inner, self.token, self.service, self.write_log = inner, token, service, write_log
        self.thumbs = thumbs

    async def __call__(self, scope, receive, send):
        from starlette.responses import PlainTextResponse

        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self.inner(scope, receive, send)
            return
        t0 = time.perf_counter()
        query = scope.get("query_string", b"").decode("latin-1")
        given = dict(parse_qsl(query)).get("t")
        for k, v in scope.get("headers", []):
            if k == b"x-assetkit-token":
                given = v.decode("latin-1")
        status = [0]

        async def send_logged(message):
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        if not given or not secrets.compare_digest(given.encode("latin-1", "replace"), self.token.encode()):
            resp = PlainTextResponse("forbidden: this review link needs its token (open the URL `assetkit review` "
                                     "printed)\n", status_code=403)
            await resp(scope, receive, send_logged)
        else:
            await self.inner(scope, receive, send_logged)
        clean = redact(query)
        client = (scope.get("client") or ("-",))[0]
        self.write_log(f'{client} "{scope["method"]} {scope["path"]}{"?" + clean if clean else ""}" '
                       f'{status[0]} {1000 * (time.perf_counter() - t0):.0f}ms')
