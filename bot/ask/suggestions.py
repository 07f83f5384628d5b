"""The prompts the assistant pane suggests when a rep opens it, built from their own pipeline:
the deal that has been quiet longest, the latest one, and the questions every pipeline has."""

from __future__ import annotations

from datetime import date

from bot.services import Services

GENERAL = (
    ("What's blocking my deals?", "What's blocking my deals right now?"),
    ("Pricing this month", "Which of my deals raised pricing this month?"),
)
MAX_PROMPTS = 4  # Slack shows up to four


async def suggested_prompts(
    services: Services, workspace_id: str, rep_id: str
) -> list[dict[str, str]]:
    """Up to four prompts ({title, message}): the rep's quietest and latest prospects first."""
    mine = await services.index.known_prospects(workspace_id, rep_id)
    prompts: list[tuple[str, str]] = []
    dated = [p for p in mine if p.last_contact is not None]
    if dated:
        quietest = min(dated, key=lambda p: p.last_contact or date.min)
        prompts.append(
            (
                f"Where do things stand with {quietest.name}?",
                f"Where do things stand with {quietest.name}, and what is still open?",
            )
        )
        latest = max(dated, key=lambda p: p.last_contact or date.min)
        if latest.slug != quietest.slug:
            prompts.append(
                (f"What did we promise {latest.name}?", f"What did we promise {latest.name}?")
            )
    prompts.extend(GENERAL)
    return [{"title": t[:75], "message": m} for t, m in prompts[:MAX_PROMPTS]]
