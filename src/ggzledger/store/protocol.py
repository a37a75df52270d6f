"""What the rest of ggzledger needs of an event store: the seam each store adapter implements."""

from __future__ import annotations

__all__ = ["KeyRow"]

# (key, fingerprint, trajectory): one row of the ledger-wide index of ids that
# must be unique across trajectories ("activity:<id>", "record:<id>").
KeyRow = tuple[str, str, str | None]
