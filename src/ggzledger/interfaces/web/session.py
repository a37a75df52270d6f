"""The web view's session: the token in an HttpOnly cookie, the login form's body, and same-origin checks."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request, cookie_parser
from starlette.responses import Response
from starlette.types import Scope

__all__ = ["COOKIE", "PATH", "MAX_AGE", "FORM_MAX", "token_of", "keep", "forget", "same_origin", "read_form", "after"]

COOKIE = "ggzledger_session"
PATH = "/ui"
MAX_AGE = 8 * 3600
"""A working day: a browser left logged in asks for the token again the next morning."""
FORM_MAX = 4096
"""The most a login or logout form may send (bytes): a token is 43 characters."""


def token_of(scope: Scope) -> str | None:
    """The token of the request's session cookie, or None."""
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            found = cookie_parser(value.decode("latin-1")).get(COOKIE)
            if found and found.isascii():
                return found
    return None


def keep(response: Response, token: str, request: Request) -> None:
    """Set the session cookie: HttpOnly (no script reads it), SameSite=Strict, Path=/ui, Secure over https."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=MAX_AGE,
        path=PATH,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def forget(response: Response, request: Request) -> None:
    """Clear the session cookie (the same attributes, expired)."""
    response.delete_cookie(COOKIE, path=PATH, httponly=True, samesite="strict", secure=request.url.scheme == "https")


def same_origin(request: Request) -> bool:
    """True when the form was sent by a page of this server: its ``Origin`` names the ``Host`` it was sent to.

    The scheme is not compared: behind a proxy that ends TLS the browser's origin is https and
    the request reaching us is http. A request without ``Origin`` is refused: every browser
    sends one with a form's POST.
    """
    origin = request.headers.get("origin")
    host = request.headers.get("host")
    if not origin or not host or origin == "null":
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


async def read_form(request: Request) -> dict[str, str] | None:
    """The fields of an ``application/x-www-form-urlencoded`` body (first value each); None when it is not one."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_MAX:
            return None
    try:
        fields = parse_qs(body.decode("ascii"), keep_blank_values=True, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {key: values[0] for key, values in fields.items()}


def after(target: str | None) -> str:
    """Where to go after logging in: ``target`` when it is a page of the web view, else its index.

    Only a path under /ui/ is followed (no scheme, no host, no ``//``): a login link cannot send
    the browser on to another site.
    """
    if (
        not target
        or not target.startswith(PATH + "/")
        or target.startswith("//")
        or "\\" in target
        or not target.isprintable()
        or not target.isascii()
    ):
        return PATH + "/"
    return target
