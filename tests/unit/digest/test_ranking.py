"""Digest checking, the token budget and the DM builder: pure, no servers."""

from __future__ import annotations

import json
from datetime import date, timedelta

from bot.blocks.limits import BUTTON_VALUE, MESSAGE_BLOCKS, SECTION_TEXT
from bot.digest.gather import ProspectContext
from bot.digest.ranking import (
    BUCKETS,
    Digest,
    build_digest_prompt,
    estimate_tokens,
    order_by_facts,
    reconcile,
)
from bot.digest.view import build_digest_blocks
from bot.domain.deal_facts import BriefFacts, BriefNote
from prompts import load_text

TODAY = date(2026, 11, 23)


def context(
    name: str, days_silent: int, outcome: str = "Positive", notes: int = 1
) -> ProspectContext:
    last = TODAY - timedelta(days=days_silent)
    facts = BriefFacts(TODAY, notes, last - timedelta(days=30), last, days_silent, outcome)
    return ProspectContext(
        slug=name.lower().replace(" ", "-"),
        name=name,
        company="Acme",
        facts=facts,
        notes=[
            BriefNote(last - timedelta(days=7 * i), outcome, f"{name} note {i}: " + "x" * 2900)
            for i in range(notes)
        ],
    )


CONTEXTS = [
    context("James Okafor", 7, "No response"),
    context("Marcus Webb", 2),
    context("Anika Patel", 3),
]


def item(name: str) -> dict[str, str]:
    return {"name": name, "reason": f"why {name}", "action": f"do {name}"}


def test_every_prospect_appears_exactly_once_whatever_the_model_says() -> None:
    answer = {
        "needs_attention": [item("James Okafor"), item("Ghost Prospect")],
        "follow_up": [item("james okafor"), item("Marcus Webb")],
        "on_track": [],
    }
    items = reconcile(answer, CONTEXTS)
    assert sorted(i.name for i in items) == ["Anika Patel", "James Okafor", "Marcus Webb"]
    james = next(i for i in items if i.name == "James Okafor")
    assert (james.bucket, james.reason, james.by_facts) == (
        "needs_attention",
        "why James Okafor",
        False,
    )
    anika = next(i for i in items if i.name == "Anika Patel")
    assert anika.by_facts and "3 days since the last contact" in anika.reason
    assert [BUCKETS.index(i.bucket) for i in items] == sorted(
        BUCKETS.index(i.bucket) for i in items
    )


def test_facts_put_a_silent_prospect_first_and_closed_deals_on_track() -> None:
    contexts = [
        context("A", 2),
        context("B", 20),
        context("C", 6, "No response"),
        context("D", 1, "Closed won"),
    ]
    placed = {i.name: i.bucket for i in order_by_facts(contexts)}
    assert placed == {
        "A": "follow_up",
        "B": "needs_attention",
        "C": "needs_attention",
        "D": "on_track",
    }
    assert [i.name for i in order_by_facts(contexts)][:2] == ["B", "C"]


def test_sixty_prospects_with_twenty_notes_fit_the_token_budget_without_dropping_any() -> None:
    contexts = [context(f"Prospect {n:02d}", n % 30, notes=20) for n in range(60)]
    for budget in (12_000, 24_000):
        prompt = build_digest_prompt(contexts, TODAY, token_budget=budget)
        assert estimate_tokens(load_text("digest_system.md")) + estimate_tokens(prompt) <= budget
        data = json.loads(prompt.split("<prospects>\n")[1].split("\n</prospects>")[0])
        assert [p["name"] for p in data] == [c.name for c in contexts]
        assert all(p["notes_newest_first"] for p in data)  # each keeps at least its latest note
        assert all("days_of_silence" in p for p in data)


def test_a_small_pipeline_keeps_more_of_each_note() -> None:
    small = build_digest_prompt(CONTEXTS, TODAY)
    big = build_digest_prompt([context(f"P{n}", 1, notes=20) for n in range(60)], TODAY)
    assert (
        len(
            json.loads(small.split("<prospects>\n")[1].split("\n</prospects>")[0])[0][
                "notes_newest_first"
            ][0]["text"]
        )
        > 1000
    )
    assert "P59" in big


def test_digest_dm_stays_within_block_kit_limits_with_a_button_per_prospect() -> None:
    for count in (3, 38, 39, 60):
        contexts = [context(f"<!channel> Prospect {n:02d} " + "y" * 40, n) for n in range(count)]
        items = order_by_facts(contexts)
        digest = Digest("U1", TODAY, items, fallback_reason="the AI model took too long")
        blocks = build_digest_blocks(digest)
        rendered = json.dumps(blocks, ensure_ascii=False)
        assert len(blocks) <= MESSAGE_BLOCKS
        texts = [b["text"]["text"] for b in blocks if b.get("type") == "section"]
        # Only mrkdwn can ping: names in plain_text button labels and values are inert.
        assert not any("<!channel>" in t for t in texts)
        assert any("&lt;!channel&gt;" in t for t in texts)
        assert all(len(t) <= SECTION_TEXT for t in texts)
        buttons = [
            e
            for b in blocks
            for e in ([b["accessory"]] if "accessory" in b else b.get("elements", []))
            if e.get("type") == "button"
        ]
        assert sorted(b["value"] for b in buttons) == sorted(c.name for c in contexts)
        assert all(len(b["value"]) <= BUTTON_VALUE for b in buttons)
        assert "Ordered by the facts in memory" in rendered
