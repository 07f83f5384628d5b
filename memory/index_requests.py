"""Slack requests already handled, shared through the database by every process using it.

Slack retries a request it got no answer to in 3 s (at once, then after 1 and 5 minutes),
to whichever replica its load balancer picks: the claim is an insert that fails when the
request's key is there already, on SQLite and PostgreSQL alike, so whoever inserts first
does the work and every other copy is only acknowledged.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from memory.index_base import IndexBase, offloaded
from memory.index_tables import handled_requests

# Well past Slack's last retry; older claims are pruned as new ones are made.
KEEP_CLAIMS = timedelta(hours=1)


class RequestIndex(IndexBase):
    """Claims on Slack requests (part of LocalIndex)."""

    # The save pool: a claim stands between a request and its ack, like a call's save.
    @offloaded("save")
    def claim_request(self, key: str, now: datetime) -> bool:
        """Claim the request `key` names; False when some process claimed it already."""
        try:
            with self._engine.begin() as conn:
                conn.execute(handled_requests.insert().values(request_key=key, claimed_at=now))
                conn.execute(
                    delete(handled_requests).where(
                        handled_requests.c.claimed_at < now - KEEP_CLAIMS
                    )
                )
        except IntegrityError:  # the key is there: a copy of a request already handled
            return False
        return True
