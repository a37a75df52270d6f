"""One of each stored event, built through the aggregates' own commands: for the codec and the fast path."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from ggzledger.domain import BillingCalendar, ClaimBook, Contract, ContractBook, Export, Scores, Trajectory

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
        bsn="999999990",
        member_number="M-0001",
        birth_date=date(1961, 5, 17),
    )
    trajectory.register(
        on=date(2016, 10, 3), region="ZK11", care_form="outreach", patient="P-1", provider=None, record_id="R-0",
        fingerprint="f-1",
    )  # fmt: skip
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
    _zpm_events(trajectory)
    trajectory.refer_back(on=date(2016, 12, 3), to="huisarts", reason=None, record_id=None, fingerprint="f8")
    trajectory.erase_personal_data(
        subject="0123456789abcdef0123456789abcdef",
        basis="AVG17",
        erased_at=datetime(2025, 3, 1, 12, tzinfo=UTC),
        digests=(("2016-11", "ab" * 32),),
    )
    return list(trajectory.collect_events())


def _zpm_events(trajectory: Trajectory) -> None:
    """The zorgprestatiemodel's events and fields (zpm.md Z9), on the example's last day before referral back."""
    day = date(2016, 12, 2)
    trajectory.assess(on=day, scores=(("Q", 2),), assessor=None, route="dynamic", record_id=None, fingerprint="z1")
    trajectory.cluster(on=day, cluster=3, hoofdgroep="X", record_id=None, fingerprint="z2")
    trajectory.review(
        on=day, cluster=11, scores=SCORES, route="full", hoofdgroep="Y", record_id=None, fingerprint="z3"
    )  # fmt: skip
    trajectory.assign_regiebehandelaar(
        on=day, practitioner="11111111", beroep="gz_psycholoog", record_id="R-3", fingerprint="z4"
    )  # fmt: skip
    trajectory.deliver_prestatie(
        activity="A-3", on=day, code="CO0040", description="Diagnostiek vanaf 120", unit="consult", amount=30000,
        tariff="zpm-2024b", minutes=130, professional=None, setting=1, care_form=None, prestatie="consult",
        consult_type="diagnostiek", beroep="gz_psycholoog", beroep_category="gz_psycholoog",
        practitioner="11111111", planned_minutes=120, start="09:30", group_size=None, care_level=None,
        security_level=None, surcharge_type=None, linked_activity=None, effective_minutes=120, band=120,
        tariff_type="maximum", max_amount=33000, price_basis="contract:K-1", record_id=None, fingerprint="z5",
    )  # fmt: skip
    trajectory.deliver_prestatie(
        activity="A-4", on=day, code="TC0041", description="Toeslag psychodiagnostiek", unit="item", amount=5000,
        tariff="zpm-2024b", minutes=None, professional=None, setting=None, care_form=None, prestatie="surcharge",
        consult_type=None, beroep=None, beroep_category=None, practitioner=None, planned_minutes=None, start=None,
        group_size=None, care_level=None, security_level=None, surcharge_type="psychodiagnostiek",
        linked_activity="A-3", effective_minutes=None, band=None, tariff_type="maximum", max_amount=5000,
        price_basis="nza_max", record_id=None, fingerprint="z6",
    )  # fmt: skip
    trajectory.sign_privacy_statement(on=day, record_id=None, fingerprint="z7")
    trajectory.withdraw_privacy_statement(on=day, record_id="R-4", fingerprint="z8")
    trajectory.admit(on=day, after_20h=True, record_id=None, fingerprint="z9")
    trajectory.discharge(on=day, record_id=None, fingerprint="z10")


def opened_with_referral() -> Trajectory:
    """A trajectory whose opening carries the referral of zpm.md Z3.1."""
    return Trajectory(
        trajectory="T-2", record_id=None, fingerprint="o2", patient="P-2", provider="12345678", insurer="3311",
        opened_on=date(2024, 10, 1), region=None, referrer=None, referral_type="01", referrer_agb="01234567",
        referral_date=date(2024, 9, 20),
    )  # fmt: skip


def contract_events() -> list[Any]:
    """A contract book with a percentage contract and a provider's own list of code amounts."""
    book = ContractBook()
    book.agree(
        Contract("K-1", "12345678", "3311", date(2024, 1, 1), date(2024, 12, 31), percentage_bp=9000),
        record_id="K-R1", fingerprint="c1",
    )  # fmt: skip
    book.agree(
        Contract("K-2", "12345678", None, date(2024, 1, 1), date(2024, 12, 31), None, {"CO0497": 12000}, True),
        record_id=None, fingerprint="c2",
    )  # fmt: skip
    return list(book.collect_events())


def claim_events() -> list[Any]:
    """A claim book with a month claimed, then claimed again deliberately."""
    book = ClaimBook()
    book.record(Export("3311", "12345678", "2024-10", "12345678-202410-3311-1", 6, 73730, again=False))
    book.record(Export("3311", "12345678", "2024-10", "12345678-202410-3311-2", 6, 73730, again=True))
    return list(book.collect_events())


def calendar_events() -> list[Any]:
    calendar = BillingCalendar()
    calendar.close(month="2016-11", up_to=12, declarations=1, total=70000, digest="a" * 64, record_id=None)
    calendar.close(month="2016-12", up_to=15, declarations=0, total=-10000, digest="b" * 64, record_id="C-1")
    return list(calendar.collect_events())
