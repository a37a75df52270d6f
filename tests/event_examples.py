"""One of each stored event, built through the aggregates' own commands: for the codec and the fast path."""

from __future__ import annotations

from datetime import date
from typing import Any

from ggzledger.domain import BillingCalendar, Scores, Trajectory

SCORES = Scores.from_mapping({**{str(n): n % 5 for n in range(1, 13)}, "13": 9, "A": 2}).items


def trajectory_events() -> list[Any]:
    """One of each Trajectory event, with optional fields both given and absent."""
    trajectory = Trajectory(
        trajectory="T-1",
        record_id="R-1",
        fingerprint="f0",
        patient="P-1",
        provider="12345678",
        insurer="3311",
        opened_on=date(2016, 11, 1),
        region="Utrecht",
        referrer=None,
    )
    trajectory.assess(on=date(2016, 11, 1), scores=SCORES, assessor="psychiater", record_id=None, fingerprint="f1")
    trajectory.cluster(on=date(2016, 11, 1), cluster=4, record_id="R-2", fingerprint="f2")
    trajectory.deliver(
        activity="A-1", on=date(2016, 11, 3), code="CONSULT", description="Consult", unit="consult", amount=10000,
        tariff="demo-2017", minutes=45, professional="psychiater", setting=2, care_form="outreach",
        record_id=None, fingerprint="f3",
    )  # fmt: skip
    trajectory.deliver(
        activity="A-2", on=date(2016, 11, 4), code="VERBLIJF", description="Verblijf", unit="day", amount=40000,
        tariff="demo-2017", minutes=None, professional=None, setting=None, care_form=None,
        record_id=None, fingerprint="f4",
    )  # fmt: skip
    trajectory.void(activity="A-2", on=date(2016, 11, 5), reason="dubbel", record_id=None, fingerprint="f5")
    trajectory.review(on=date(2016, 12, 1), cluster=3, scores=SCORES, record_id=None, fingerprint="f6")
    trajectory.review(on=date(2016, 12, 2), cluster=3, scores=None, record_id=None, fingerprint="f7")
    trajectory.refer_back(on=date(2016, 12, 3), to="huisarts", reason=None, record_id=None, fingerprint="f8")
    return list(trajectory.collect_events())


def calendar_events() -> list[Any]:
    calendar = BillingCalendar()
    calendar.close(month="2016-11", up_to=12, declarations=1, total=70000, digest="a" * 64, record_id=None)
    calendar.close(month="2016-12", up_to=15, declarations=0, total=-10000, digest="b" * 64, record_id="C-1")
    return list(calendar.collect_events())
