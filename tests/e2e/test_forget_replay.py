"""A call's form submitted again after the call was erased (a retried or replayed request)
gets a plain answer, and the erased call stays erased."""

from __future__ import annotations

from handlers.log import ERASED
from tests.e2e.conftest import RunningBot
from tests.e2e.test_forget import confirm, log_nadia_and_omar, review
from tests.e2e.test_log_and_timeline import open_log_modal, submit
from tests.support.fake_slack import TEAM_ID


async def test_a_form_submitted_again_after_its_call_was_erased_saves_nothing(
    bot: RunningBot,
) -> None:
    await log_nadia_and_omar(bot)
    receipt = await confirm(bot, await review(bot, "nadia"))
    assert "*Nadia Rahman* is forgotten" in receipt["text"]
    posted = len(bot.slack.called("chat.postMessage"))

    view = await open_log_modal(bot)
    answer = await submit(
        bot, view, view_id="V-N1", prospect="Nadia Rahman", note="Budget ZQX-N1 approved."
    )
    assert answer["response_action"] == "errors"
    assert list(answer["errors"].values()) == [ERASED]  # the form stays open and says why

    index = bot.services.index
    assert await index.waiting() == []
    assert [p.slug for p in await index.known_prospects(TEAM_ID)] == ["omar-haddad"]
    assert await bot.services.memory.listed_calls(TEAM_ID, "nadia-rahman") == []
    # A new form for the same prospect is saved as usual.
    assert await submit(bot, view, view_id="V-N3", prospect="Nadia Rahman", note="New call.") == {}
    await bot.slack.wait_for("chat.postMessage", posted + 1, timeout=60)
    assert {p.slug for p in await index.known_prospects(TEAM_ID)} == {
        "nadia-rahman",
        "omar-haddad",
    }
