"""The read-only web view of ``ggzledger serve`` under /ui/ (docs/web.md): server-rendered pages, no script."""

from __future__ import annotations

from importlib import resources

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ggzledger.interfaces.web.login import Login
from ggzledger.interfaces.web.pages import Pages, Reader
from ggzledger.interfaces.web.render import WebPages, error_page
from ggzledger.service.tokens import TokenCheck

__all__ = ["routes", "WebPages", "error_page", "Reader"]

_CSS = resources.files("ggzledger.interfaces.web").joinpath("static/ggzledger.css").read_bytes()


async def _stylesheet(request: Request) -> Response:
    return Response(_CSS, media_type="text/css; charset=utf-8", headers={"X-Content-Type-Options": "nosniff"})


def routes(reader: Reader, check: TokenCheck) -> list[Route]:
    """The web view's routes, each with its rule in http_access.RULES; ``check`` is the API's own token check."""
    pages, login = Pages(reader), Login(reader, check)
    return [
        Route("/ui/", pages.index),
        Route("/ui/login", login.login, methods=["GET", "POST"]),
        Route("/ui/logout", login.logout, methods=["GET", "POST"]),
        Route("/ui/static/ggzledger.css", _stylesheet),
        Route("/ui/months", pages.month_form),
        Route("/ui/months/{month}", pages.month),
        Route("/ui/trajectories/{trajectory}/nota/{month}", pages.nota),
        Route("/ui/trajectories/{trajectory}/timeline", pages.timeline),
        Route("/ui/reviews", pages.reviews),
    ]
