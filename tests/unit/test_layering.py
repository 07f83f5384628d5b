"""Dependencies point one way: a feature's view takes results and never pulls in the use case's
I/O (memory, the outbox, the services), and bot/blocks/ imports no feature."""

from __future__ import annotations

import subprocess
import sys

import pytest

FEATURES = [
    "ask",
    "brief",
    "digest",
    "followup",
    "forget",
    "home",
    "log",
    "stats",
    "team",
    "timeline",
]
IO = ("memory.store", "bot.infra.outbox", "bot.services", "hindsight_client")


@pytest.mark.parametrize("module", [f"bot.{f}.view" for f in FEATURES] + ["bot.blocks.messages"])
def test_a_view_loads_without_any_io_module(module: str) -> None:
    # A fresh interpreter: what this test process imported before must not hide an import.
    probe = (
        "import importlib, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(','.join(m for m in {IO!r} if m in sys.modules))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "", f"{module} pulls in {found}"
