from datetime import UTC, datetime

from bot.brief.changes import BriefChanges, changes_since
from bot.brief.prepare import BriefResult
from bot.brief.view import build_brief_blocks
from bot.domain.deal_facts import BriefFacts
from bot.domain.prospect_lookup import ProspectMatch
from memory.index import BriefView
from tests.support.blocks import render
from tests.unit.brief.samples import TODAY, entry

SEEN = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)


def view(call_ids: list[str], labels: list[str]) -> BriefView:
    return BriefView("T1", "U1", "james-okafor", SEEN, tuple(call_ids), tuple(labels))


def test_a_first_brief_has_nothing_to_compare_with() -> None:
    assert changes_since(None, [entry(3, "Hi.")], ["objection:pricing"]) is None


def test_new_calls_and_labels_no_earlier_brief_saw_are_reported() -> None:
    old, new = entry(20, "Intro."), entry(3, "Security review needed.")
    changes = changes_since(
        view([old.call_id], ["objection:pricing"]),
        [new, old],
        ["objection:pricing", "objection:security_compliance", "rep:U1"],
    )
    assert changes is not None
    assert [e.call_id for e in changes.new_notes] == [new.call_id]
    assert changes.new_labels == ["objection:security_compliance"]


def test_a_label_recall_did_not_return_this_time_is_not_reported_as_news() -> None:
    old = entry(20, "Intro.")
    changes = changes_since(view([old.call_id], ["objection:pricing"]), [old], [])
    assert changes is not None and not changes.anything


def result_with(changes: BriefChanges) -> BriefResult:
    entries = [entry(3, "Security review needed.")]
    match = ProspectMatch("james", "james-okafor", "James Okafor", True, [])
    return BriefResult(
        match,
        BriefFacts.from_timeline(entries, TODAY),
        [],
        fallback_reason="AI summaries are not configured",
        changes=changes,
    )


def test_the_brief_says_what_is_new_since_the_last_one() -> None:
    new = entry(3, "Security review needed.")
    shown = render(
        build_brief_blocks(
            result_with(BriefChanges(SEEN, [new], ["objection:security_compliance"]))
        )
    )
    assert "Since your last brief (05 Nov 2026): 1 new note (07 Nov)" in shown
    assert "new in memory: objection: security compliance" in shown
    quiet = render(build_brief_blocks(result_with(BriefChanges(SEEN))))
    assert "Nothing new since your last brief (05 Nov 2026)." in quiet
