"""The path and query values every HTTP page and endpoint checks the same way: trajectory numbers and months."""

from __future__ import annotations

from starlette.exceptions import HTTPException

from ggzledger.domain.errors import Malformed
from ggzledger.domain.months import is_month
from ggzledger.service.records import MAX_ID, check_identifier

__all__ = ["trajectory_param", "month_param"]


def trajectory_param(text: str) -> str:
    """A trajectory number under an input identifier's rules; raises HTTPException 400 otherwise.

    The 400 never echoes the value: nothing it says can spoof or garble a page or a log line.
    """
    try:
        return check_identifier("trajectory", text)
    except Malformed:
        raise HTTPException(
            400, f"not a trajectory number: at most {MAX_ID} characters, no control or invisible ones"
        ) from None


def month_param(text: str) -> str:
    """A month YYYY-MM; raises HTTPException 400 quoting at most 20 characters of what was sent."""
    if not is_month(text):
        raise HTTPException(400, f"{text[:20]!r} is not a month YYYY-MM")
    return text
