"""Who may see the team view, as Slack says, kept an hour for App Home's button."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.infra.access import TeamAccess
from tests.support.fake_slack import FakeSlack


async def test_an_answer_is_kept_for_an_hour_and_a_failed_one_is_asked_again(
    slack: tuple[FakeSlack, AsyncWebClient],
) -> None:
    fake, client = slack
    fake.admins.add("U0ADMIN")
    fake.usergroups["S0MGRS"] = ("managers", {"U0MGR"})
    access = TeamAccess()
    assert await access.allowed(client, "T1", "U0ADMIN", None) is True
    assert await access.allowed(client, "T1", "U0ADMIN", None) is True
    assert len(fake.called("users.info")) == 1
    assert await access.allowed(client, "T1", "U0MGR", "@managers") is True
    assert await access.allowed(client, "T1", "U0REP", "@managers") is False
    assert await access.allowed(client, "T1", "U0REP", "@managers") is False
    assert len(fake.called("usergroups.users.list")) == 2  # one per user, then kept

    fake.errors["users.info"] = "ratelimited"
    assert await access.allowed(client, "T1", "U0NEW", None) is False
    del fake.errors["users.info"]
    fake.admins.add("U0NEW")
    assert await access.allowed(client, "T1", "U0NEW", None) is True  # not kept: asked again

    expired = TeamAccess(keep_seconds=0)
    assert await expired.allowed(client, "T1", "U0ADMIN", None) is True
    fake.admins.discard("U0ADMIN")
    assert await expired.allowed(client, "T1", "U0ADMIN", None) is False


async def test_a_users_info_answer_asked_for_the_time_zone_is_not_asked_again(
    slack: tuple[FakeSlack, AsyncWebClient],
) -> None:
    fake, client = slack
    access = TeamAccess()
    access.learn("T1", "U0BOSS", {"id": "U0BOSS", "is_owner": True})
    access.learn("T1", "U0REP", {"id": "U0REP", "is_admin": False})
    access.learn("T1", "U0ODD", {"id": "U0ODD"})  # no flags: nothing learnt
    assert await access.allowed(client, "T1", "U0BOSS", None) is True
    assert await access.allowed(client, "T1", "U0REP", None) is False
    assert fake.called("users.info") == []
    fake.admins.add("U0ODD")
    assert await access.allowed(client, "T1", "U0ODD", None) is True
