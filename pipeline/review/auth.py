"""Passwords (scrypt), the logged-in user, CSRF tokens, and the guard in front of every route.

Sessions are Starlette's signed cookies (key kept in the review database). Every request that is
not the login page or a static asset needs a logged-in user; every POST needs the session's
CSRF token, as the form field ``csrf_token`` or the ``X-CSRF-Token`` header (htmx).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from pipeline.review.vocabulary import has_role

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
PUBLIC_PATHS = ("/login", "/static/")


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``password`` with a fresh random salt."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    b64 = base64.b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches a hash made by :func:`hash_password` (constant time)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if kind != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(got, base64.b64decode(digest))


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def can(self, role: str) -> bool:
        return has_role(self.role, role)


class LoginRequired(Exception):
    """Raised by the guard for a browser page request without a session (→ redirect)."""


def csrf_token(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def current_user(request: Request) -> User | None:
    data = request.session.get("user")
    if not isinstance(data, dict):
        return None
    return User(name=str(data.get("name")), role=str(data.get("role")))


def log_in(request: Request, name: str, role: str) -> None:
    """Start a fresh session for ``name`` (new CSRF token: no session fixation)."""
    request.session.clear()
    request.session["user"] = {"name": name, "role": role}
    csrf_token(request)


async def guard(request: Request) -> None:
    """App-wide dependency: login on every non-public route, CSRF on every POST."""
    path = request.url.path
    if request.method == "POST":
        await check_csrf(request)
    if path.startswith(PUBLIC_PATHS):
        return
    if current_user(request) is None:
        wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
        if wants_page and "hx-request" not in request.headers:
            raise LoginRequired()
        raise HTTPException(status_code=401, detail="log in first")


async def check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None:
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        raise HTTPException(status_code=403, detail="missing or wrong CSRF token; reload the page")


def require_role(request: Request, role: str) -> User:
    """The logged-in user if they have ``role``'s rights; 403 otherwise."""
    user = current_user(request)
    if user is None or not user.can(role):
        raise HTTPException(status_code=403, detail=f"this needs the {role} role")
    return user
