"""The web view's pages: the index, a month's close, a zorgnota, a care-need timeline and the review worklist."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ggzledger.audit import findings, reports
from ggzledger.domain.errors import UnknownTrajectory
from ggzledger.domain.months import SpanTooLong
from ggzledger.interfaces.http_access import RULES, caller_of
from ggzledger.interfaces.http_params import month_param, trajectory_param
from ggzledger.interfaces.text.declaration import (
    LATE_NOTE,
    delivered,
    described,
    referral_text,
    regiebehandelaar_text,
    status_text,
)  # fmt: skip
from ggzledger.interfaces.web.charts import chart
from ggzledger.interfaces.web.months import month_close, months_to_show
from ggzledger.interfaces.web.render import error_page, page
from ggzledger.service.ledger import Ledger

__all__ = ["Reader", "Pages"]

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class Reader(Protocol):
    """What the pages need of the HTTP interface: the ledger, its read lock, and the logged read."""

    ledger: Ledger

    async def run(self, call: Callable[[], Any]) -> Any:
        """``call()`` in a worker thread, behind the read lock."""

    async def logged(
        self,
        request: Request,
        call: Callable[[], Any],
        asked: str | None,
        named: Callable[[Any], list[str]] | None = None,
    ) -> Any:
        """``call()``, with its access-log rows, as the API's reads of a patient's data."""


class Pages:
    """The handlers of the pages that show the ledger; each reads through ``reader`` as the API does."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def index(self, request: Request) -> Response:
        caller = caller_of(request)
        closed, open_month = await self.reader.run(lambda: months_to_show(self.reader.ledger))
        reads = caller.role in RULES["/ui/months/{month}"].roles
        return page("index.html", caller=caller, reads=reads, closed=closed, open_month=open_month)

    async def month_form(self, request: Request) -> Response:
        """The index's month field (a GET form) leads to that month's page."""
        month = month_param(request.query_params.get("month", ""))
        return RedirectResponse(f"/ui/months/{month}", status_code=303)

    async def month(self, request: Request) -> Response:
        month = month_param(request.path_params["month"])
        try:
            close = await self.reader.logged(
                request, lambda: month_close(self.reader.ledger, month), None, lambda found: found.trajectories
            )
        except SpanTooLong as error:
            return error_page(request.scope, 400, f"cannot draft {month}, which would first close {error}")
        return page("month.html", caller=caller_of(request), close=close)

    async def nota(self, request: Request) -> Response:
        trajectory = trajectory_param(request.path_params["trajectory"])
        month = month_param(request.path_params["month"])
        try:
            found = await self.reader.logged(
                request, lambda: self.reader.ledger.declaration(trajectory, month), trajectory
            )
        except UnknownTrajectory as error:
            return error_page(request.scope, 404, str(error))
        except SpanTooLong as error:
            return error_page(request.scope, 400, f"cannot draft {month}, which would first close {error}")
        if found is None:
            return error_page(request.scope, 404, f"trajectory {trajectory} has no declaration for {month}")
        return page(
            "nota.html",
            caller=caller_of(request),
            d=found,
            zpm="privacy" in found,
            status_line=status_text(found),
            described=described,
            delivered=delivered,
            regie=regiebehandelaar_text(found.get("regiebehandelaar")),
            referral=referral_text(found.get("referral")),
            late_note=LATE_NOTE if any(line["late"] for line in found["lines"]) else None,
        )

    async def timeline(self, request: Request) -> Response:
        trajectory = trajectory_param(request.path_params["trajectory"])
        ledger = self.reader.ledger

        def read() -> tuple[Any, list[dict[str, Any]]]:
            return reports.history(ledger, trajectory), findings.findings(ledger, trajectory=trajectory)

        try:
            entries, rows = await self.reader.logged(request, read, trajectory)
        except UnknownTrajectory as error:
            return error_page(request.scope, 404, str(error))
        dated = [
            (date.fromisoformat(row["date"]), f"{row['finding'].replace('_', ' ')}: {row['activity']}") for row in rows
        ]
        drawn = chart(entries, dated, lambda code: ledger.catalogue.lookup(code).need_level)
        clusters = {
            code: ledger.catalogue.lookup(code)
            for code in sorted({c for e in entries for c in (e.from_cluster, e.to_cluster) if c is not None})
        }
        return page(
            "timeline.html", caller=caller_of(request), trajectory=trajectory, entries=entries, findings=rows,
            chart=drawn, clusters=clusters,
        )  # fmt: skip

    async def reviews(self, request: Request) -> Response:
        given = request.query_params.get("as_of")
        as_of = self.reader.ledger.today() if not given else _day(given)
        rows = await self.reader.logged(
            request,
            lambda: reports.worklist(self.reader.ledger, as_of),
            None,
            lambda found: [row.trajectory for row in found],
        )
        return page("reviews.html", caller=caller_of(request), as_of=as_of, rows=rows)


def _day(text: str) -> date:
    try:
        if not _DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{text[:20]!r} is not a date YYYY-MM-DD") from None
