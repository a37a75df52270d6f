"""The Trajectory's fast path for building events builds exactly what the library's trigger_event builds."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.domain import Aggregate

from event_examples import trajectory_events
from ggzledger.domain import Trajectory
from ggzledger.domain.fast_events import build_event
from ggzledger.store import TypedMapper

# Every event a trajectory's commands trigger, optional fields both given and absent.
EVENTS = trajectory_events()


def test_the_commands_build_every_event_class_of_the_trajectory_but_its_creation() -> None:
    # The creation event (Opened) is built by the library's own constructor, not by the fast path.
    classes = {
        value
        for value in vars(Trajectory).values()
        if isinstance(value, type) and issubclass(value, Trajectory.Event) and not issubclass(value, Aggregate.Created)
    } - {Trajectory.Event}

    assert classes == {type(event) for event in EVENTS[1:]}
    assert len(classes) == 14
    assert {cls.__name__ for cls in classes} >= {
        "PrestatieDelivered", "RegiebehandelaarAssigned", "PrivacyStatementSigned", "PrivacyStatementWithdrawn",
        "Admitted", "Discharged", "PersonalDataErased", "Registered",
    }  # fmt: skip


@pytest.mark.parametrize("index", range(1, len(EVENTS)), ids=lambda i: f"{type(EVENTS[i]).__name__}-{i}")
def test_an_event_built_by_the_fast_path_is_the_one_trigger_event_builds(index: int) -> None:
    built = EVENTS[index]
    # The same trajectory as it was before that event, rebuilt from the events before it.
    twin: Any = None
    for earlier in EVENTS[:index]:
        twin = earlier.mutate(twin)
    fields = {k: v for k, v in vars(built).items() if k not in ("originator_id", "originator_version")}

    twin.trigger_event(type(built), **fields)
    (by_library,) = twin.collect_events()
    mapper = TypedMapper()

    assert type(by_library) is type(built)
    assert list(vars(by_library).items()) == list(vars(built).items())
    assert by_library == built
    assert mapper.to_stored_event(by_library) == mapper.to_stored_event(built)
    assert (twin.version, twin.modified_on) == (built.originator_version, built.timestamp)


def test_the_fast_path_refuses_missing_and_unknown_fields_as_the_constructor_does() -> None:
    given = dict(vars(EVENTS[2]))
    missing = {k: v for k, v in given.items() if k != "cluster"}

    with pytest.raises(TypeError):
        Trajectory.Clustered(**missing)
    with pytest.raises(TypeError, match="Clustered takes"):
        build_event(Trajectory.Clustered, missing)
    with pytest.raises(TypeError):
        Trajectory.Clustered(**given, extra=1)
    with pytest.raises(TypeError, match="Clustered takes"):
        build_event(Trajectory.Clustered, {**given, "extra": 1})
    with pytest.raises(TypeError, match="Clustered takes"):
        build_event(Trajectory.Clustered, {**missing, "extra": 1})
