"""One call log that the unit tests vary with `dataclasses.replace`."""

from datetime import UTC, date, datetime

from memory.records import CallLog

CALL = CallLog(
    call_id="v1",
    workspace_id="T1",
    prospect="James Okafor",
    company="Acme",
    rep_id="U1",
    call_date=date(2026, 10, 1),
    outcome="pilot_agreed",
    note="Agreed a two-week pilot.",
    transcript="Full transcript",
    logged_at=datetime(2026, 10, 1, 9, 30, tzinfo=UTC),
)
