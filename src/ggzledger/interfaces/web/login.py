"""Logging in and out of the web view: a token given once in a form, kept in the session cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ggzledger.interfaces.web.pages import Reader
from ggzledger.interfaces.web.render import error_page, page
from ggzledger.interfaces.web.session import after, forget, keep, read_form, same_origin, token_of
from ggzledger.service.tokens import TokenCheck

__all__ = ["Login"]

# Longer than any token `token add` prints, shorter than anything worth hashing.
_TOKEN_MAX = 200


class Login:
    """GET shows the form, POST checks the token as the API does and sets the cookie; logout clears it."""

    def __init__(self, reader: Reader, check: TokenCheck) -> None:
        self.reader = reader
        self.check = check

    async def login(self, request: Request) -> Response:
        if request.method != "POST":
            return page("login.html", next=after(request.query_params.get("next")), failed=False)
        # A login form sent from another site would log this browser in with someone else's token.
        if not same_origin(request):
            return error_page(request.scope, 403, "the login form must be sent from this server's own page")
        form = await read_form(request)
        if form is None:
            return error_page(request.scope, 400, "the login form was not sent as a form")
        token = form.get("token", "").strip()
        target = after(form.get("next"))
        caller = None
        if token and len(token) <= _TOKEN_MAX and token.isascii():
            caller = await self.reader.run(lambda: self.check.caller(token))
        if caller is None:
            return page("login.html", 401, next=target, failed=True)
        response = RedirectResponse(target, status_code=303)
        keep(response, token, request)
        return response

    async def logout(self, request: Request) -> Response:
        if request.method != "POST":
            return page("logout.html", logged_in=token_of(request.scope) is not None)
        if not same_origin(request):
            return error_page(request.scope, 403, "the logout form must be sent from this server's own page")
        response = RedirectResponse("/ui/login", status_code=303)
        forget(response, request)
        return response
