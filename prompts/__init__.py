"""Prompt text and JSON schemas, kept as files beside this module and loaded as package data."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_text(name: str) -> str:
    """A prompt's text, e.g. ``load_text("brief_system.md")``."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON schema, e.g. ``load_schema("brief_schema.json")``."""
    schema: dict[str, Any] = json.loads(load_text(name))
    return schema
