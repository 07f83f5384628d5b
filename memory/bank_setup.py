"""How every workspace's memory bank is set up for sales, and how a stored note records the way
it was filed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class BankSetup:
    """How every workspace's bank is configured: what extraction should keep (the mission),
    the labels that become filterable fact tags, and how observations are scoped."""

    retain_mission: str
    entity_labels: list[dict[str, Any]]
    observation_scopes: list[list[str]] = field(default_factory=lambda: [[PROSPECT_SCOPE]])
    # The local embedding model reads 256 tokens (~1,000 characters) of a chunk: longer chunks
    # (a transcript) would be searchable by their first 1,000 characters only.
    chunk_size: int = 1000


FILED, FILED_AS_FACTS, FILED_AS_TEXT = "filed", "facts", "text"

# One set of observations per prospect: the scope glob matches each memory's own prospect tag.
PROSPECT_SCOPE = "prospect:*"
# Retaining with a model extracts facts first (a call to the LLM per chunk): allow for it.
REASONING_RETAIN_TIMEOUT = 120.0
