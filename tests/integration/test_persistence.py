"""Serialisation in one place: every event survives the typed mapper and a real store; the domain stays pure."""

from __future__ import annotations

import ast
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from eventsourcing.cipher import AESCipher
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import InfrastructureFactory, MapperDeserialisationError
from eventsourcing.utils import Environment, get_topic, resolve_topic

import ggzledger.domain
from event_examples import SCORES, calendar_events, claim_events, contract_events, trajectory_events
from ggzledger import Ledger
from ggzledger.domain import AGGREGATES, BillingCalendar, Trajectory
from ggzledger.store import TypedMapper
from ggzledger.store.codec import mapper_for


def stored_event_classes() -> set[type]:
    """Every event class nested in an aggregate that can be stored (the abstract bases aside)."""
    found = set()
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            if isinstance(value, type) and issubclass(value, Aggregate.Event) and name not in ("Event", "Created"):
                found.add(value)
    return found


ALL_EVENTS = trajectory_events() + calendar_events() + contract_events() + claim_events()


def test_the_examples_cover_every_event_class() -> None:
    assert {type(event) for event in ALL_EVENTS} == stored_event_classes()
    assert {type(event).__name__ for event in ALL_EVENTS} == {
        "Opened", "Assessed", "Clustered", "ActivityDelivered", "ActivityVoided", "Reviewed", "ReferredBack",
        "Started", "MonthClosed", "PrestatieDelivered", "RegiebehandelaarAssigned", "PrivacyStatementSigned",
        "PrivacyStatementWithdrawn", "Admitted", "Discharged", "ContractAgreed", "PersonalDataErased",
        "ClaimExported", "Registered",
    }  # fmt: skip


KEY = AESCipher.create_key(16)
MAPPERS = {
    "plain": lambda: TypedMapper(),
    "compressed": lambda: TypedMapper(compressor=ZlibCompressor()),
    "encrypted": lambda: TypedMapper(cipher=AESCipher(Environment(env={"CIPHER_KEY": KEY}))),
    "compressed-and-encrypted": lambda: TypedMapper(
        compressor=ZlibCompressor(), cipher=AESCipher(Environment(env={"CIPHER_KEY": KEY}))
    ),
}


@pytest.mark.parametrize("sealing", MAPPERS)
@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: f"{type(e).__qualname__}-v{e.originator_version}")
def test_every_event_round_trips_through_the_typed_mapper(event: Any, sealing: str) -> None:
    mapper = MAPPERS[sealing]()

    stored = mapper.to_stored_event(event)
    restored = mapper.to_domain_event(stored)

    assert type(restored) is type(event)
    assert restored == event
    assert vars(restored) == vars(event)
    for name, value in vars(event).items():
        assert type(getattr(restored, name)) is type(value), name


def test_the_mapper_restores_dates_tuples_and_none() -> None:
    mapper = TypedMapper()
    reviewed_with_scores, reviewed_without = [e for e in ALL_EVENTS if isinstance(e, Trajectory.Reviewed)][:2]

    restored = mapper.to_domain_event(mapper.to_stored_event(reviewed_with_scores))
    assert type(restored.on) is date
    assert type(restored.timestamp) is datetime and restored.timestamp.tzinfo is not None
    assert restored.scores == SCORES and type(restored.scores) is tuple
    assert all(type(pair) is tuple for pair in restored.scores)
    assert mapper.to_domain_event(mapper.to_stored_event(reviewed_without)).scores is None


def test_stored_state_is_plain_json_under_the_explicit_topic() -> None:
    mapper = TypedMapper()
    for event in ALL_EVENTS:
        stored = mapper.to_stored_event(event)
        cls = type(event)
        assert stored.topic == cls.TOPIC == f"ggzledger.{cls.__qualname__.split('.')[0]}.{cls.__name__}"
        state = orjson.loads(stored.state)
        assert "originator_id" not in state and "originator_version" not in state
        if "on" in state:
            assert state["on"] == event.on.isoformat()


def test_a_prestatie_is_stored_without_its_empty_fields_and_read_back_with_them_as_none() -> None:
    mapper = TypedMapper()
    surcharge = next(
        e for e in ALL_EVENTS if isinstance(e, Trajectory.PrestatieDelivered) and e.prestatie == "surcharge"
    )

    stored = mapper.to_stored_event(surcharge)
    state = orjson.loads(stored.state)

    empty = [name for name in Trajectory.PrestatieDelivered.OMITTED_WHEN_NONE if getattr(surcharge, name) is None]
    assert "consult_type" in empty and "beroep" in empty
    assert not set(empty) & set(state)
    assert state["surcharge_type"] == surcharge.surcharge_type  # what a prestatie holds is stored
    # What the views read (current_state) and the domain event alike have every field back.
    current = mapper.current_state(stored.topic, orjson.loads(stored.state))
    assert all(current[name] is None for name in empty)
    assert mapper.is_versioned(stored.topic)
    assert vars(mapper.to_domain_event(stored)) == vars(surcharge)


@pytest.mark.parametrize("sealing", ["compressed", "encrypted", "compressed-and-encrypted"])
def test_a_sealed_state_is_not_plain_json_and_decodes_to_what_the_plain_mapper_stores(sealing: str) -> None:
    mapper, plain = MAPPERS[sealing](), TypedMapper()
    for event in ALL_EVENTS:
        sealed, clear = mapper.to_stored_event(event), plain.to_stored_event(event)

        assert sealed.topic == clear.topic and sealed.state != clear.state
        assert b"2016-1" not in sealed.state  # no date readable in it
        assert mapper.decode_state(sealed.state) == plain.decode_state(clear.state) == orjson.loads(clear.state)


def test_a_state_encrypted_with_another_key_is_not_read_back() -> None:
    stored = MAPPERS["encrypted"]().to_stored_event(ALL_EVENTS[1])
    other = TypedMapper(cipher=AESCipher(Environment(env={"CIPHER_KEY": AESCipher.create_key(16)})))

    with pytest.raises(MapperDeserialisationError):
        other.to_domain_event(stored)
    with pytest.raises(ValueError):
        other.decode_state(stored.state)


def test_the_mapper_for_an_application_takes_the_librarys_cipher_and_compressor_settings() -> None:
    settings = {"COMPRESSOR_TOPIC": "eventsourcing.compressor:ZlibCompressor", "CIPHER_KEY": KEY}
    mapper = mapper_for(InfrastructureFactory.construct(Environment("Ledger", settings)))
    unsealed = mapper_for(InfrastructureFactory.construct(Environment("Ledger", {})))

    assert isinstance(mapper, TypedMapper) and isinstance(unsealed, TypedMapper)
    assert isinstance(mapper.compressor, ZlibCompressor) and isinstance(mapper.cipher, AESCipher)
    assert unsealed.compressor is None and unsealed.cipher is None
    stored = mapper.to_stored_event(ALL_EVENTS[1])
    assert mapper.to_domain_event(stored) == ALL_EVENTS[1]
    with pytest.raises(EnvironmentError):
        mapper_for(InfrastructureFactory.construct(Environment("Ledger", {"CIPHER_TOPIC": get_topic(AESCipher)})))


def test_every_explicit_topic_names_its_own_class() -> None:
    for aggregate in AGGREGATES:
        assert resolve_topic(get_topic(aggregate)) is aggregate
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, Aggregate.Event):
                # The library re-derives the creation event from the declared one; it keeps the topic.
                topic = get_topic(value)
                assert topic == value.TOPIC == f"{aggregate.TOPIC}.{value.__name__}"
                assert resolve_topic(topic) is value


def test_every_stored_topic_is_in_the_topics_table_of_events_md_and_has_its_section() -> None:
    page = (Path(__file__).parents[2] / "docs" / "events.md").read_text()
    for aggregate in AGGREGATES:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, Aggregate.Event) and value.__name__ not in _NEVER_STORED:
                name = f"{aggregate.__name__}.{value.__name__}"
                assert f"| `{value.TOPIC}` | `{name}` | yes |" in page, name
                assert f"`{name}`" in "".join(line for line in page.splitlines() if line.startswith("### ")), name


# Base classes and the library's default creation events: declared for their topics, never stored.
_NEVER_STORED = ("Event", "Created")


def test_every_event_round_trips_through_a_real_store(ledger: Ledger) -> None:
    trajectory = Trajectory(
        trajectory="T-1", record_id=None, fingerprint="f0", patient="P-1", provider="12345678", insurer="3311",
        opened_on=date(2016, 11, 1), region=None, referrer="huisarts",
    )  # fmt: skip
    for event in trajectory_events()[1:]:
        # Replay the example's commands on this aggregate by applying copies of their events.
        trajectory.trigger_event(type(event), **{k: v for k, v in vars(event).items() if k not in _ENVELOPE})
    calendar = BillingCalendar()
    calendar.close(month="2016-11", up_to=3, declarations=1, total=10000, digest="c" * 64, record_id="C-9")
    pending = {aggregate.id: list(aggregate.collect_events()) for aggregate in (trajectory, calendar)}
    ledger.save(*pending[trajectory.id], *pending[calendar.id])

    for originator_id, events in pending.items():
        assert list(ledger.events.get(originator_id)) == events
    restored = ledger.repository.get(trajectory.id)
    assert (restored.version, restored.referred_back_on, restored.activities["A-2"].voided) == (
        trajectory.version, date(2016, 12, 3), True,
    )  # fmt: skip
    assert ledger.repository.get(BillingCalendar.ID).closed == ["2016-11"]


_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic"}


# --- The domain is pure ---------------------------------------------------------------------------------

DOMAIN = Path(ggzledger.domain.__file__).parent


def impure_imports(source: str) -> list[str]:
    """The imports of a module that are not the standard library, attrs, eventsourcing.domain or the domain."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: inside the domain package
                continue
            module = node.module or ""
            modules = [f"eventsourcing.{a.name}" for a in node.names] if module == "eventsourcing" else [module]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or top == "attrs"
                or module == "eventsourcing.domain"
                or module == "ggzledger.domain"
                or module.startswith("ggzledger.domain.")
            )
            if not allowed:
                bad.append(module)
    return bad


def test_the_domain_imports_only_the_standard_library_attrs_and_eventsourcing_domain() -> None:
    files = sorted(DOMAIN.glob("*.py"))
    assert {f.name for f in files} >= {"trajectory.py", "billing.py", "values.py", "errors.py", "months.py"}
    assert {f.name: impure_imports(f.read_text()) for f in files} == {f.name: [] for f in files}


@pytest.mark.parametrize(
    "source",
    [
        "import orjson",
        "from eventsourcing.persistence import Mapper",
        "from eventsourcing import application",
        "from ggzledger.projections import BillingView",
        "from ggzledger import records",
        "import sqlite3, psycopg",
    ],
)
def test_the_purity_check_catches_a_forbidden_import(source: str) -> None:
    assert impure_imports(source) != []


def test_a_version_1_assessment_is_upcast_with_its_total_when_read() -> None:
    mapper = TypedMapper()
    assessed = next(e for e in ALL_EVENTS if isinstance(e, Trajectory.Assessed))
    stored = mapper.to_stored_event(assessed)
    state = orjson.loads(stored.state)
    assert state.pop("class_version") == 3
    del state["total"], state["route"]  # what version 1 stored
    old = type(stored)(stored.originator_id, stored.originator_version, stored.topic, orjson.dumps(state))

    restored = mapper.to_domain_event(old)

    # Items 1..12 score 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2; "13" (9) and "A" are not counted.
    assert restored.total == 23
    assert restored == assessed
