"""The one seam to the event store: the codec, the SQLite and the PostgreSQL adapters, the store choice.

The PostgreSQL adapter is not imported here: it needs psycopg, which a SQLite
ledger never loads.
"""

from ggzledger.store.codec import OrjsonTranscoder, TypedMapper, mapper_for
from ggzledger.store.protocol import KeyRow, LedgerRecorder, Listener, head_of
from ggzledger.store.settings import DEFAULT_DB, StoreError, store_env
from ggzledger.store.sqlite_store import SQLiteLedgerRecorder, create_private, read_states

__all__ = [
    "DEFAULT_DB",
    "KeyRow",
    "LedgerRecorder",
    "Listener",
    "OrjsonTranscoder",
    "SQLiteLedgerRecorder",
    "StoreError",
    "TypedMapper",
    "create_private",
    "head_of",
    "mapper_for",
    "read_states",
    "store_env",
]
