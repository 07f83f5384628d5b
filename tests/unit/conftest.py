"""Unit-tier fixtures: a loopback Slack and a real Web API client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.support.fake_slack import FakeSlack


@pytest.fixture
async def slack() -> AsyncIterator[tuple[FakeSlack, AsyncWebClient]]:
    fake = FakeSlack()
    await fake.start()
    yield fake, AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    await fake.close()
