"""The public event feed for integrators, following the ledger's head, and the feed's JSON Schemas."""

from ggzledger.feed.public import VERSION, Feed, line, schema

__all__ = ["VERSION", "Feed", "line", "schema"]
