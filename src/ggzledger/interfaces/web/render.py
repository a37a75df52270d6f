"""The web view's templates: one Jinja2 environment that escapes everything, and its pages and error pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import jinja2
from starlette.responses import HTMLResponse, Response
from starlette.types import Scope

from ggzledger.domain.money import format_euro
from ggzledger.interfaces.text.declaration import dutch_date, dutch_month
from ggzledger.interfaces.web import charts
from ggzledger.interfaces.web.session import PATH, token_of

__all__ = ["ENVIRONMENT", "SECURITY_HEADERS", "TITLES", "page", "error_page", "WebPages"]

ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("ggzledger.interfaces.web", "templates"),
    # Every value is escaped, whatever the template's name: trajectory ids and paths come from the request.
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters["euro"] = format_euro
ENVIRONMENT.filters["datum"] = dutch_date
ENVIRONMENT.filters["maand"] = dutch_month
# A trajectory id in a link's path: percent-encoded as one segment (a '/' in an id stays in its segment).
ENVIRONMENT.filters["segment"] = lambda text: quote(str(text), safe="")
# The chart's frame, and the words of the care-need history in the view's language.
ENVIRONMENT.globals.update(
    width=charts.WIDTH, height=charts.HEIGHT, left=charts.LEFT, right=charts.RIGHT, honos=charts.HONOS,
    steps=charts.STEPS,
    EVENTS_NL={"clustered": "clustering", "reviewed": "review", "referred_back": "terugverwijzing"},
    CHANGES_NL={
        "initial": "eerste", "unchanged": "ongewijzigd", "step_up": "stap omhoog", "step_down": "stap omlaag",
        "lateral": "zijwaarts", "ended": "beëindigd", "erased": "gewist",
    },
    LIKELIHOODS_NL={"likely": "waarschijnlijk", "less_likely": "minder waarschijnlijk", "unlikely": "onwaarschijnlijk"},
)  # fmt: skip
# No script, no other origin: the pages need their own stylesheet and forms, nothing else.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none';"
        " base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    # A page's address names a trajectory: it is not sent to another site. Not no-referrer: under that
    # policy a browser sends the login form's Origin as "null", and the login's same-origin check fails.
    "Referrer-Policy": "same-origin",
}

TITLES = {
    400: "Ongeldige aanvraag",
    401: "Aanmelden nodig",
    403: "Geen toegang",
    404: "Niet gevonden",
    405: "Niet toegestaan",
    503: "Database niet bereikbaar",
}
"""The heading of each error page, in the view's language."""


def page(template: str, code: int = 200, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """The template rendered with ``context``, as an HTML response with status ``code``."""
    body = ENVIRONMENT.get_template(template).render(root=PATH + "/", **context)
    return HTMLResponse(body, status_code=code, headers={**SECURITY_HEADERS, **(headers or {})})


def error_page(scope: Scope, status: int, message: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A refusal as a page: what went wrong, and for 401 a link to the login form that comes back here.

    ``message`` is shown as it is (escaped): the server's own English wording, as in the API's errors.
    """
    back = None
    if status == 401 and scope.get("method") == "GET":
        back = scope["path"] + (f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else "")
    return page(
        "error.html",
        status,
        headers,
        title=TITLES.get(status, f"Fout {status}"),
        status=status,
        message=message,
        back=back,
    )


class WebPages:
    """The guard's view of the web view (http_access.Pages): requests under /ui, its cookie, its refusal pages."""

    def owns(self, scope: Scope) -> bool:
        """True for a request of the web view: its path is /ui or under /ui/."""
        path: str = scope.get("path", "")
        return path == PATH or path.startswith(PATH + "/")

    def token(self, scope: Scope) -> str | None:
        """The token of the session cookie."""
        return token_of(scope)

    def refusal(self, scope: Scope, status: int, message: str) -> Response:
        """The error page for ``status``."""
        return error_page(scope, status, message)
