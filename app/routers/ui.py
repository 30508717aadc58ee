"""The dashboard at /ui/ and /docs, both served from files shipped in the package (no CDN).

Also the dashboard's sign-in: ``POST /ui/session`` checks a key once and answers with an
``HttpOnly``, ``SameSite=Strict`` session cookie (``Secure`` when served over TLS); the page then
calls the API with that cookie and the CSRF token from ``GET /ui/session``.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response, status
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.deps import AppStateDep
from app.http.context import current_request_id
from app.http.spec import SESSION_SCHEME
from app.problems import CHALLENGE, Forbidden, Unauthorized
from app.schemas.problem import problems
from app.schemas.tickets import SessionInfo, SignIn
from app.security.audit import AuditLog, AuditRecord
from app.security.keys import ApiKey
from app.security.sessions import COOKIE_NAME, CSRF_HEADER, Session

STATIC = Path(__file__).resolve().parent.parent / "ui" / "static"
ASSETS = "/ui/assets"
# The dashboard runs only its own files: no inline script, no other origin, never in a frame.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# No engine is called here: only the refusals (and 422 for a malformed sign-in).
_REFUSED: dict[int | str, dict[str, Any]] = {
    code: doc for code, doc in problems(401, 403).items() if code in (401, 403, 422)
}

router = APIRouter(tags=["ui"])


def install_ui(app: FastAPI) -> None:
    """The dashboard's routes and its static files (also Swagger UI's, for /docs)."""
    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="ui-assets")


@router.get("/ui", include_in_schema=False)
async def dashboard_redirect() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.get("/ui/", include_in_schema=False)
async def dashboard() -> FileResponse:
    """The single page; everything else it needs comes from /ui/assets/."""
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=PAGE_HEADERS)


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    """Swagger UI from the package's own copy of swagger-ui-dist: works without internet."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Dockyard API",
        swagger_js_url=f"{ASSETS}/vendor/swagger-ui/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/vendor/swagger-ui/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.svg",
        # No online validator badge: it would call out to validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )
    return HTMLResponse(page.body, headers={"X-Frame-Options": "DENY", "Cache-Control": "no-store"})


# ---------------------------------------------------------------------------- sessions


def _info(key: ApiKey, session: Session) -> SessionInfo:
    # The session names its key and holds the CSRF token and the expiry; the key adds its role
    # and scope.
    return SessionInfo(**asdict(session), role=key.role, scope=key.scope)


def _record(audit: AuditLog, key: ApiKey | None, action: str, status_code: int) -> None:
    # Sign-ins sit outside /v1, so the gate does not audit them: record them here, key id only.
    audit.record(
        AuditRecord(
            time=datetime.now(UTC),
            request_id=current_request_id(),
            key_id=key.id if key else None,
            role=key.role if key else None,
            action=action,
            target_id=None,
            profile=key.profile if key else None,
            decision="allow" if status_code < 400 else "deny",
            violations=[],
            status=status_code,
        )
    )


@router.post(
    "/ui/session",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionInfo,
    responses=_REFUSED,
)
async def sign_in(
    body: SignIn, request: Request, response: Response, state: AppStateDep
) -> SessionInfo:
    """Sign in to the dashboard with an API key: sets the session cookie (the key is not kept)."""
    sessions = state.sessions
    key = state.keys.authenticate(body.key.get_secret_value())
    if key is None:
        _record(state.audit, None, "ui_sign_in", 401)
        raise Unauthorized(
            "the API key is unknown, expired or revoked",
            headers={"WWW-Authenticate": CHALLENGE + ', error="invalid_token"'},
        )
    session_id, session = sessions.start(key)
    response.set_cookie(
        COOKIE_NAME,
        session_id,
        max_age=int(sessions.ttl.total_seconds()),
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    response.headers["Cache-Control"] = "no-store"
    _record(state.audit, key, "ui_sign_in", 201)
    return _info(key, session)


# The session cookie is declared as what it is, a security scheme (app/http/spec.py), not as a
# parameter: generated clients then leave it to their cookie jar instead of sending it per
# request (which httpx deprecates).
_SESSION: dict[str, Any] = {"security": [{SESSION_SCHEME: []}]}


@router.get("/ui/session", response_model=SessionInfo, responses=_REFUSED, openapi_extra=_SESSION)
async def current_session(request: Request, response: Response, state: AppStateDep) -> SessionInfo:
    """Who is signed in, and the CSRF token the page sends with its changes."""
    session_id = request.cookies.get(COOKIE_NAME)
    found = state.sessions.lookup(session_id) if session_id else None
    if found is None:
        raise Unauthorized("not signed in", headers={"WWW-Authenticate": CHALLENGE})
    response.headers["Cache-Control"] = "no-store"
    session, key = found
    return _info(key, session)


@router.delete(
    "/ui/session",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_REFUSED,
    openapi_extra=_SESSION,
)
async def sign_out(request: Request, state: AppStateDep) -> Response:
    """End the session (it needs the CSRF header, so no other site can sign anyone out)."""
    session_id = request.cookies.get(COOKIE_NAME)
    sessions = state.sessions
    found = sessions.lookup(session_id) if session_id else None
    if found is not None and session_id is not None:
        session, key = found
        sent = request.headers.get(CSRF_HEADER, "").encode()
        if not hmac.compare_digest(sent, session.csrf_token.encode()):
            raise Forbidden(f"signing out needs the {CSRF_HEADER} header the dashboard sends")
        sessions.end(session_id)
        _record(state.audit, key, "ui_sign_out", 204)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
    return response
