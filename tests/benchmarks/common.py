"""What every benchmark needs: a real Hindsight (HINDSIGHT_URL, or the embedded one)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from memory.embedded import EmbeddedHindsight


def run_with_hindsight(bench: Callable[[str, Path], Awaitable[None]]) -> None:
    """Run `bench(hindsight_url, workdir)`, starting and stopping the embedded server if needed."""
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("HINDSIGHT_URL")
        embedded = None
        if not url:
            embedded = EmbeddedHindsight(Path(tmp))
            url = embedded.start()
        try:
            asyncio.run(bench(url, Path(tmp)))
        finally:
            if embedded is not None:
                embedded.stop()
