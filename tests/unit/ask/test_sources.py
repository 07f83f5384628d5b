"""A question across the pipeline spreads the prompt over every prospect recall found."""

from bot.ask.sources import PER_PROSPECT, spread
from bot.domain.recall import NOTES_BUDGET_CHARS


def test_every_prospect_gets_its_best_memory_before_any_gets_a_second() -> None:
    note = NOTES_BUDGET_CHARS // 10
    # One prospect recall ranks very high, with many memories; nine more with one or two each.
    sizes = {"top": [note] * 8, **{f"p{n}": [note, note] for n in range(9)}}

    taken = spread(sizes)

    assert set(taken) == set(sizes), "a prospect recall found was left out"
    assert taken["top"] == 1 and all(taken[f"p{n}"] == 1 for n in range(9))


def test_second_memories_follow_while_the_budget_lasts_up_to_the_cap() -> None:
    sizes = {"a": [100] * 10, "b": [100] * 2, "c": [100]}

    assert spread(sizes) == {"a": PER_PROSPECT, "b": 2, "c": 1}


def test_nothing_past_the_budget_and_no_gap_in_a_prospects_ranks() -> None:
    half = NOTES_BUDGET_CHARS // 2
    # a's second memory does not fit once b's best is in: neither a's third nor b's second
    # may be taken past it, though they would fit.
    sizes = {"a": [half, half, 1], "b": [half - 10, 1]}

    assert spread(sizes) == {"a": 1, "b": 1}
