"""Who may do what beyond their own pipeline: workspace admins and owners (users.info), and the
members of a Slack user group named in the settings (usergroups.users.list)."""

from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

# A user group's ID (S0…) as Slack shows it, or its handle (@sales-managers).
USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
USERGROUP_HANDLE = re.compile(r"^@?[a-z0-9][a-z0-9._-]*$")


@dataclass(frozen=True)
class Membership:
    member: bool
    problem: str | None = None  # why Slack could not say (an error code), for the refusal


async def admin_status(client: AsyncWebClient, user_id: str) -> Membership:
    """Whether Slack says the user is a workspace admin or owner; when it cannot say, not
    one, with Slack's error code."""
    try:
        info = await client.users_info(user=user_id)
    except SlackApiError as error:
        code = str(error.response.get("error") or "error")
        logger.warning("users.info failed for %s (%s); not treated as an admin", user_id, code)
        return Membership(False, code)
    user = info.get("user") or {}
    return Membership(bool(user.get("is_admin") or user.get("is_owner")))


async def is_admin(client: AsyncWebClient, user_id: str) -> bool:
    return (await admin_status(client, user_id)).member


async def in_usergroup(client: AsyncWebClient, user_id: str, usergroup: str) -> Membership:
    """Whether the user is in the user group named by its ID or its handle."""
    try:
        group_id = usergroup
        if not USERGROUP_ID.match(usergroup):
            handle = usergroup.removeprefix("@")
            groups = (await client.usergroups_list()).get("usergroups") or []
            group_id = next((g["id"] for g in groups if g.get("handle") == handle), "")
            if not group_id:
                logger.warning("No Slack user group has the handle @%s", handle)
                return Membership(False, "no_such_subteam")
        members = await client.usergroups_users_list(usergroup=group_id)
    except SlackApiError as error:
        code = str(error.response.get("error") or "error")
        logger.warning("Could not read the members of user group %s: %s", usergroup, code)
        return Membership(False, code)
    return Membership(user_id in (members.get("users") or []))


class TeamAccess:
    """Who may see the team view: admins and owners (users.info) and the members of the
    configured user group. Answers are kept an hour per user for App Home's button (a Home
    published after every logged call must not ask Slack each time); `/team` and the button
    itself ask afresh. An answer Slack could not give is not kept."""

    def __init__(self, keep_seconds: float = 3600.0, max_users: int = 10_000) -> None:
        self._keep = keep_seconds
        self._max = max_users
        self._admins: OrderedDict[tuple[str, str], tuple[bool, float]] = OrderedDict()
        self._members: OrderedDict[tuple[str, str, str], tuple[bool, float]] = OrderedDict()

    def learn(self, workspace_id: str, user_id: str, user: dict[str, Any]) -> None:
        """What a user object Slack sent for another reason says (a `users.info` asked for
        the rep's time zone, a `user_change` event); one without the admin flags says nothing."""
        if "is_admin" not in user and "is_owner" not in user:
            return
        self._keep_answer(
            self._admins,
            (workspace_id, user_id),
            bool(user.get("is_admin") or user.get("is_owner")),
        )

    async def allowed(
        self, client: AsyncWebClient, workspace_id: str, user_id: str, usergroup: str | None
    ) -> bool:
        """For App Home's button: from what is kept when it can be."""
        return (await self.check(client, workspace_id, user_id, usergroup))[0]

    async def check(
        self,
        client: AsyncWebClient,
        workspace_id: str,
        user_id: str,
        usergroup: str | None,
        fresh: bool = False,
    ) -> tuple[bool, list[str]]:
        """Whether the user may open the team view (a workspace admin or owner, or a member of
        the user group), asked of Slack when `fresh` or not kept; when not, what Slack
        answered if it could not tell. Slack's answers are kept for App Home."""
        problems = []
        admin = None if fresh else self._kept(self._admins, (workspace_id, user_id))
        if admin is None:
            status = await admin_status(client, user_id)
            if status.problem is None:
                self._keep_answer(self._admins, (workspace_id, user_id), status.member)
            else:
                problems.append(f"`users.info` answered `{status.problem}`")
            admin = status.member
        if admin:
            return True, []
        if not usergroup:
            return False, problems
        key = (workspace_id, user_id, usergroup)
        member = None if fresh else self._kept(self._members, key)
        if member is None:
            membership = await in_usergroup(client, user_id, usergroup)
            if membership.problem is None:
                self._keep_answer(self._members, key, membership.member)
            else:
                problems.append(f"the user group's listing answered `{membership.problem}`")
            member = membership.member
        return (True, []) if member else (False, problems)

    def _kept(self, answers: OrderedDict[Any, tuple[bool, float]], key: Any) -> bool | None:
        kept = answers.get(key)
        return kept[0] if kept is not None and kept[1] > time.monotonic() else None

    def _keep_answer(
        self, answers: OrderedDict[Any, tuple[bool, float]], key: Any, answer: bool
    ) -> None:
        answers[key] = (answer, time.monotonic() + self._keep)
        answers.move_to_end(key)
        while len(answers) > self._max:
            answers.popitem(last=False)
