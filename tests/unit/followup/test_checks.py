"""The follow-up's checks in code: the analysis and the email against the notes."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from bot.domain.grounding import Grounds
from bot.followup.draft import check_analysis, check_email, salvage_email, sent_note
from bot.log.form import MAX_NOTE
from memory.index import KeptDraft

NOTE_DATES = {date(2026, 10, 14), date(2026, 11, 10)}
GROUNDS = Grounds.of(
    [
        "Sarah Chen, IT Security Lead, needs SOC2 Type 2 and the EU data residency guarantee.",
        "Mike Reynolds owns the budget; $4,800/month was the issue.",
    ],
    NOTE_DATES,
)


def analysis(**changes: Any) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "blocker": "The EU data residency guarantee in writing.",
        "blocker_dates": ["2026-11-10"],
        "history": [{"blocker": "price", "since_date": "2026-10-14"}],
        "decider": {
            "name": "Sarah Chen",
            "role": "approver",
            "authority": "security",
            "source_date": "2026-10-14",
        },
        "recipient": {"name": "Sarah Chen", "reason": "She signs off."},
    }
    answer.update(changes)
    return answer


def test_a_grounded_analysis_passes() -> None:
    assert check_analysis(analysis(), GROUNDS, NOTE_DATES) == []


def test_a_blocker_with_no_citation_or_an_invented_date_is_refused() -> None:
    assert "blocker_dates: the blocker cites no note" in check_analysis(
        analysis(blocker_dates=[]), GROUNDS, NOTE_DATES
    )
    assert any(
        "not the date of a note" in p
        for p in check_analysis(analysis(blocker_dates=["2026-11-11"]), GROUNDS, NOTE_DATES)
    )


def test_an_invented_decider_or_recipient_is_refused() -> None:
    invented = {"name": "Tom Reyes", "reason": "CFO"}
    assert "recipient: 'Tom Reyes' is named in no note" in check_analysis(
        analysis(recipient=invented), GROUNDS, NOTE_DATES
    )


EMAIL = {
    "to": "Sarah Chen",
    "subject": "The EU guarantee",
    "body": "Hi Sarah,\n\nThe SOC2 Type 2 is done; the EU guarantee is next.\n\nBest,",
}


def test_the_wrong_addressee_is_caught_and_never_salvaged() -> None:
    wrong = {**EMAIL, "to": "Mike Reynolds", "body": EMAIL["body"].replace("Sarah", "Mike")}
    problems = check_email(wrong, GROUNDS, "Sarah Chen")
    assert any("must go to Sarah Chen" in p for p in problems)
    assert any("greeting must address Sarah Chen" in p for p in problems)
    assert salvage_email(wrong, GROUNDS, "Sarah Chen") is None


def test_an_invented_price_is_caught_and_salvage_takes_its_sentence_out() -> None:
    priced = {**EMAIL, "body": EMAIL["body"].replace("next.", "next. It is now $3,900/month.")}
    assert "body: the amount 3,900 is in no note" in check_email(priced, GROUNDS, "Sarah Chen")
    saved = salvage_email(priced, GROUNDS, "Sarah Chen")
    assert saved is not None and saved["removed"] == 1 and "3,900" not in saved["body"]


def test_nothing_left_but_greeting_and_sign_off_is_not_a_draft() -> None:
    empty = {**EMAIL, "body": "Hi Sarah,\n\nTom Reyes approved $9,999.\n\nBest,"}
    assert salvage_email(empty, GROUNDS, "Sarah Chen") is None


def test_a_long_sent_email_loses_nothing() -> None:
    body = "\n".join(f"Paragraph {n}: " + "words " * 60 for n in range(20))
    draft = KeptDraft("a" * 32, "T", "U", "Mike", "Sarah Chen", "S", body, datetime.now(UTC))
    note, rest = sent_note(draft)
    assert len(note) <= MAX_NOTE and rest is not None
    assert note.startswith("Follow-up email sent to Sarah Chen. Subject: S")
    assert " ".join((note + "\n" + rest).split()) == " ".join(
        f"Follow-up email sent to Sarah Chen. Subject: S\n\n{body}".split()
    )


def test_a_formal_greeting_by_last_name_addresses_the_recipient() -> None:
    formal = {**EMAIL, "body": EMAIL["body"].replace("Hi Sarah,", "Dear Ms. Chen,")}
    assert check_email(formal, GROUNDS, "Sarah Chen") == []


def test_a_recipient_with_accents_is_greeted_by_name() -> None:
    grounds = Grounds.of(["Zoë Müller signs off on security."])
    email = {"to": "Zoë Müller", "subject": "Security", "body": "Hi Zoe,\n\nThe review.\n\nBest,"}
    assert check_email(email, grounds, "Zoë Müller") == []


def test_salvage_never_leaves_an_email_without_its_greeting() -> None:
    email = {
        **EMAIL,
        "body": "Hi Sarah, thanks for the call on 14 March.\n\nThe EU guarantee is next.\n\n"
        "The SOC2 Type 2 is done.\n\nBest,",
    }
    assert salvage_email(email, GROUNDS, "Sarah Chen") is None


def test_what_the_analysis_shows_about_people_is_checked_too() -> None:
    invented = {**analysis()["decider"], "authority": "signs off up to $250k"}
    problems = check_analysis(analysis(decider=invented), GROUNDS, NOTE_DATES)
    assert "decider: the amount 250,000 is in no note" in problems
