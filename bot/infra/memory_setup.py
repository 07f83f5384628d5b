"""How SalesMemory sets up memory: each workspace's bank for sales, and the embedded server's
model. Kept in bot/ so memory/ stays free of prompts and settings."""

from __future__ import annotations

import json

from bot.config import Settings
from memory.embedded_env import HindsightLlm, groq_openai_base
from memory.store import BankSetup
from prompts import load_text

RETAIN_MISSION = "retain_mission.md"
ENTITY_LABELS = "entity_labels.json"


def sales_bank_setup() -> BankSetup:
    """What extraction keeps (prompts/retain_mission.md) and the labels that become fact tags
    such as `objection:pricing` (prompts/entity_labels.json); observations per prospect."""
    return BankSetup(
        retain_mission=load_text(RETAIN_MISSION).strip(),
        entity_labels=json.loads(load_text(ENTITY_LABELS)),
    )


def objection_kinds() -> list[str]:
    """The kinds of objection memory labels facts with (`objection:<kind>`), in the order
    prompts/entity_labels.json lists them."""
    labels = json.loads(load_text(ENTITY_LABELS))
    group = next(group for group in labels if group["key"] == "objection")
    return [str(value["value"]) for value in group["values"]]


def embedded_llm(settings: Settings) -> HindsightLlm | None:
    """The embedded server reasons with Groq when a key is configured; else chunks mode."""
    if not settings.groq_api_key:
        return None
    return HindsightLlm(
        api_key=settings.groq_api_key,
        model=settings.hindsight_llm_model,
        base_url=groq_openai_base(settings.groq_base_url),
    )
