"""Erasing a patient's personal data (crypto-shredding), and putting erasures right after a key-store restore."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

import attrs
from eventsourcing.persistence import IntegrityError

from ggzledger.audit.reconstruction import form_1_digests, month_closes
from ggzledger.domain import Trajectory
from ggzledger.domain.errors import NotAllowed, Refused
from ggzledger.service.ledger import Ledger
from ggzledger.service.retry import ATTEMPTS, back_off, gave_up
from ggzledger.store.keystore import KeyStore
from ggzledger.store.sealing import ERASED_TOPIC, SUBJECT_KEY

__all__ = ["BASES", "Receipt", "Reconciled", "UnknownPatient", "erase", "reconcile_erasures", "key_store_of"]

BASES = ("AVG17", "WGBO455")
"""The legal bases of an erasure: AVG (GDPR) art. 17, or WGBO art. 7:455 BW."""

PLAIN = "this ledger is plain (recorded before sealing): copy it with ggzledger seal --into NEW"


class UnknownPatient(Refused):
    """An erasure of a patient the key store has no data key for."""


@attrs.frozen
class Receipt:
    """What an erasure did (or, dry, would do): no personal data, only the subject's random id."""

    subject: str
    trajectories: tuple[str, ...]
    basis: str
    erased_at: datetime
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "trajectories": list(self.trajectories),
            "basis": self.basis,
            "erased_at": self.erased_at.isoformat(timespec="seconds"),
            "dry_run": self.dry_run,
        }


@attrs.frozen
class Reconciled:
    """What reconcile-erasures put right: keys deleted again, tombstones written again, erasures recorded."""

    keys_deleted: int
    tombstones_written: int
    erasures_recorded: int
    subjects: int

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)


def key_store_of(ledger: Ledger) -> KeyStore:
    """The ledger's key store; raises NotAllowed on a plain ledger."""
    if ledger.keys is None:
        raise NotAllowed(PLAIN)
    return ledger.keys


def erase(ledger: Ledger, patient: str, basis: str, *, dry_run: bool = False, now: datetime | None = None) -> Receipt:
    """Erase a patient's personal data: delete the data key and write the tombstone (one key-store
    transaction), record PersonalDataErased on each of the patient's trajectories, evict the caches,
    let the views purge, and checkpoint the files so no copy of the values is left.

    ``dry_run``: say what would be erased, change nothing. Raises NotAllowed (a plain ledger, a
    basis not in :data:`BASES`) and UnknownPatient (no data key for that patient: never recorded,
    or erased already).
    """
    if basis not in BASES:
        raise NotAllowed(f"basis {basis!r}: give one of {', '.join(BASES)}")
    keys = key_store_of(ledger)
    ledger.wait_for_commit()
    subject = keys.find(patient) if keys.exists() else None
    if subject is None:
        raise UnknownPatient("no data key for that patient in this ledger's key store (never recorded, or erased)")
    numbers = trajectories_of(ledger, subject)
    at = now or datetime.now(UTC)
    if not dry_run:
        # While the key still opens the cluster: the form-1 digests the erasure makes unrecomputable.
        digests = {number: _checked_form_1_digests(ledger, number) for number in numbers}
        keys.erase(subject, basis, at.isoformat(timespec="seconds"))
        _record(ledger, {subject: (basis, at)}, numbers, digests)
        _finish(ledger, [subject])
    return Receipt(subject, tuple(sorted(numbers)), basis, at, dry_run)


def reconcile_erasures(ledger: Ledger) -> Reconciled:
    """Make the key store and the log agree on every erasure, after a key-store restore or an interrupted erase.

    Each subject a PersonalDataErased event names loses its data key again and gets its
    tombstone back; each tombstone whose trajectories lack that event (an erase killed between
    its two steps) gets the event recorded.
    """
    keys = key_store_of(ledger)
    ledger.wait_for_commit()
    events = _erasure_events(ledger)
    logged: dict[str, tuple[str, str]] = {}
    for event in events:
        logged.setdefault(event.subject, (event.basis, event.erased_at.isoformat(timespec="seconds")))
    before = keys.tombstones()
    deleted = sum(keys.erase(subject, basis, at) for subject, (basis, at) in logged.items())
    written = len(set(logged) - set(before))
    erased = {event.trajectory for event in events}
    tombstones = keys.tombstones()
    missing: dict[str, list[str]] = {}
    for subject in tombstones:
        for number in trajectories_of(ledger, subject):
            if number not in erased:
                missing.setdefault(subject, []).append(number)
    numbers = [n for found in missing.values() for n in found]
    recorded = _record(
        ledger,
        {s: (tombstones[s][1], datetime.fromisoformat(tombstones[s][0])) for s in missing},
        numbers,
        # The key is gone already: the digests issued at the form-1 closes are the view's.
        {number: _issued_form_1_digests(ledger, number) for number in numbers},
    )
    _finish(ledger, [*logged, *missing])
    return Reconciled(deleted, written, recorded, len(set(logged) | set(missing)))


def trajectories_of(ledger: Ledger, subject: str) -> list[str]:
    """The numbers of the trajectories opened under a subject (the ledger's key index)."""
    with ledger.store.transaction(write=False) as c:
        c.execute(
            "SELECT trajectory FROM ledger_keys WHERE key LIKE ? AND fingerprint = ?", (f"{SUBJECT_KEY}%", subject)
        )
        return sorted(str(row[0]) for row in c.fetchall())


def _erasure_events(ledger: Ledger) -> list[Trajectory.PersonalDataErased]:
    events: list[Trajectory.PersonalDataErased] = []
    after = 0
    while True:
        page = ledger.recorder.select_notifications(
            start=after, limit=1000, topics=[ERASED_TOPIC], inclusive_of_start=False
        )
        if not page:
            return events
        events.extend(cast(Trajectory.PersonalDataErased, ledger.mapper.to_domain_event(n)) for n in page)
        after = page[-1].id


def _checked_form_1_digests(ledger: Ledger, number: str) -> tuple[tuple[str, str], ...]:
    """The trajectory's form-1 digests as the log gives them; NotAllowed when one is not the digest issued."""
    given = form_1_digests(ledger, number)
    if not given:
        return ()  # a ledger sealed from the start closes in form 2 only
    issued = dict(_issued_form_1_digests(ledger, number))
    for month, digest in given:
        if issued.get(month) != digest:
            raise NotAllowed(
                f"trajectory {number}: its declaration of {month} no longer follows from the log (run ggzledger"
                " verify); nothing was erased"
            )
    return given


def _issued_form_1_digests(ledger: Ledger, number: str) -> tuple[tuple[str, str], ...]:
    """(month, digest) of the trajectory's declarations the billing view stored at closes of digest form 1."""
    forms = {close.month: close.digest_form for _position, close in month_closes(ledger)}
    ledger.projector.catch_up()
    with ledger.store.transaction(write=False) as c:
        c.execute("SELECT month, digest FROM billing_declarations WHERE trajectory = ? ORDER BY month", (number,))
        return tuple((str(month), str(digest)) for month, digest in c.fetchall() if forms.get(month) == 1)


def _record(
    ledger: Ledger,
    bases: dict[str, tuple[str, datetime]],
    numbers: Sequence[str],
    digests: dict[str, tuple[tuple[str, str], ...]],
) -> int:
    """Record PersonalDataErased on each trajectory not erased yet, with its form-1 ``digests``; the number recorded."""
    if not numbers:
        return 0
    subject_of = {n: s for s in bases for n in trajectories_of(ledger, s)}
    for attempt in range(ATTEMPTS):
        ledger.cache.forget()
        changed = []
        for number in numbers:
            trajectory = ledger.load(number)
            if trajectory.erased is None:
                subject = subject_of[number]
                basis, at = bases[subject]
                trajectory.erase_personal_data(subject=subject, basis=basis, erased_at=at, digests=digests[number])
                changed.append(trajectory)
        if not changed:
            return 0
        try:
            ledger.save(*changed)
        except IntegrityError:
            back_off(attempt)  # another writer recorded on one of them meanwhile: load again
            continue
        return len(changed)
    raise gave_up()


def _finish(ledger: Ledger, subjects: Sequence[str]) -> None:
    """Evict what holds the subjects' data, let the views purge, and leave no old copy in the files."""
    ledger.cache.forget()
    sealer = ledger.mapper.sealer
    for subject in subjects:
        if sealer is not None:
            sealer.forget(subject)
    ledger.projector.catch_up()
    ledger.store.checkpoint()
    if ledger.keys is not None:
        ledger.keys.checkpoint()
