"""Reading Block Kit the way a test needs it."""

from __future__ import annotations

import json
from typing import Any


def render(blocks: Any) -> str:
    """Blocks as one searchable string, non-ASCII kept (· and emoji stay readable)."""
    return json.dumps(blocks, ensure_ascii=False)


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button: section accessories and actions elements, in order."""
    found = []
    for block in blocks:
        elements = [block["accessory"]] if "accessory" in block else block.get("elements", [])
        found += [e for e in elements if e.get("type") == "button"]
    return found
