"""What every benchmark needs: a real Hindsight (HINDSIGHT_URL, or the embedded one)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from memory.embedded import EmbeddedHindsight, HindsightLlm
from memory.store import ProspectMemory

# The key the server wants: the embedded one's (set by `run_with_hindsight`), or the operator's.
API_KEY = "HINDSIGHT_API_KEY"


def memory_at(url: str, bank_prefix: str, **options: Any) -> ProspectMemory:
    """Memory on the benchmark's server, with the key it wants."""
    return ProspectMemory.connect(url, bank_prefix, os.environ.get(API_KEY) or None, **options)


def run_with_hindsight(
    bench: Callable[[str, Path], Awaitable[None]], llm: HindsightLlm | None = None
) -> None:
    """Run `bench(hindsight_url, workdir)`, starting and stopping the embedded server (reasoning
    with `llm`, if given) when HINDSIGHT_URL names none."""
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("HINDSIGHT_URL")
        embedded = None
        if not url:
            embedded = EmbeddedHindsight(Path(tmp), llm=llm)
            url = embedded.start()
            os.environ[API_KEY] = embedded.api_key
        try:
            asyncio.run(bench(url, Path(tmp)))
        finally:
            if embedded is not None:
                embedded.stop()
