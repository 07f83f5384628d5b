from datetime import date

from bot.ask.answer import Source, checked_sentences

PRIYA = "She pushed back on timing; onboarding must end before the Q1 freeze. SOC2 report asked."
JAMES = "We promised a 15% discount if they sign 200 seats by 30 November. Tom Reyes signs off."
SOURCES = [
    Source(
        "n1", "c1", "priya-sharma", "Priya Sharma", "Acme", date(2026, 10, 14), "Meeting", PRIYA
    ),
    Source(
        "n2", "c2", "james-okafor", "James Okafor", "Rentokil", date(2026, 11, 2), "Demo", JAMES
    ),
]


def _answer(*sentences: tuple[str, list[str]]) -> dict[str, object]:
    return {
        "sentences": [{"text": t, "note_ids": ids} for t, ids in sentences],
        "answer_found": True,
    }


def test_sentences_borne_out_by_their_notes_stay() -> None:
    kept, dropped = checked_sentences(
        _answer(
            ("Priya Sharma asked for the SOC2 report on 14 Oct.", ["n1"]),
            ("Rentokil was promised a 15% discount for 200 seats; Tom Reyes signs off.", ["n2"]),
        ),
        SOURCES,
    )
    assert dropped == 0
    assert [c.sources[0].ref for c in kept] == ["n1", "n2"]


def test_invented_people_prices_dates_and_ids_are_dropped() -> None:
    kept, dropped = checked_sentences(
        _answer(
            ("Maria Lopez from Acme signs off.", ["n1"]),  # a person in no note
            ("Rentokil was promised a 25% discount.", ["n2"]),  # a price in no note
            ("James Okafor met us on 3 Nov.", ["n2"]),  # a date in no note
            ("Priya raised SOC2.", ["n9"]),  # a note id never given
            ("Priya raised SOC2.", ["n1", "n7"]),  # one real id, one invented
            ("Priya raised timing.", []),  # cites nothing
            ("Rentokil wants 200 seats.", ["n1"]),  # the right fact, the wrong note
        ),
        SOURCES,
    )
    assert kept == []
    assert dropped == 7


def test_an_empty_sentence_is_not_counted() -> None:
    kept, dropped = checked_sentences(_answer(("  ", ["n1"])), SOURCES)
    assert (kept, dropped) == ([], 0)
