"""Claims on Slack requests that give up quickly on a locked database.

A claim stands between a Slack request and its ack, which Slack waits 3 s for: when another
writer holds the database, the claim must fail within its own short wait rather than keep a
thread waiting out the index's usual lock wait (and the request then runs unclaimed). Claims
run on threads of their own, so a claim waiting for a lock never delays a call's save.
"""

from __future__ import annotations

from memory.database import with_lock_wait
from memory.index import LocalIndex
from memory.index_requests import RequestIndex


def quick_claims(index: LocalIndex, wait: float) -> RequestIndex:
    """The index's request claims on the same database and connections, each waiting for a
    lock at most `wait` seconds. Its engine is the index's: closing the index closes it."""
    # The schema is the index's own, made when it was opened; this only checks it, before the
    # short wait applies.
    claims = RequestIndex(index._engine)
    claims._engine = with_lock_wait(index._engine, wait)
    return claims
