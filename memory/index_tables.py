"""The local index's tables (memory/index_upgrade.py brings older databases up to date)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()

prospects = Table(
    "prospects",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("slug", String(128), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("company", String(128), nullable=False, default=""),
    # The latest call date with this prospect, kept as calls are recorded, so the typeahead
    # reads the most recent matches in index order and stops at its limit.
    Column("last_contact", Date, nullable=True),
    Index("prospects_by_recency", "workspace_id", "last_contact", "name"),
)

# What the rep was told about a call: nothing yet, "saved, on its way", or "in memory".
UNCONFIRMED, TOLD_WAITING, TOLD_STORED = 0, 1, 2

calls = Table(
    "calls",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("workspace_id", String(32), nullable=False, index=True),
    Column("slug", String(128), nullable=False),
    Column("rep_id", String(32), nullable=False),
    Column("call_date", Date, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("confirmed", Integer, nullable=False, default=UNCONFIRMED),
    # A prospect's last contact and count, and a rep's prospects, read without a scan.
    Index("calls_by_prospect", "workspace_id", "slug", "call_date"),
    Index("calls_by_rep", "workspace_id", "rep_id", "slug"),
)

# Write-ahead: a submitted call (note and transcript) waits here until Hindsight has it.
# A row is deleted once delivered, so no note text stays behind locally.
outbox = Table(
    "outbox",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("workspace_id", String(32), nullable=False, index=True),
    Column("slug", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("kept_at", DateTime(timezone=True), nullable=False),
    # Per-call backoff: a call Hindsight rejects never holds up the others.
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    # A delivery worker's claim, so two replicas never send the same call at once.
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("last_error", String(300), nullable=True),
    # With an LLM, memory files a note asynchronously: the operation it is in, and how many
    # operations for it failed (a new operation id each time, so a retry is real work again).
    Column("operation_id", String(64), nullable=True),
    Column("failed_operations", Integer, nullable=False, default=0, server_default=text("0")),
)

digest_settings = Table(
    "digest_settings",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("rep_id", String(32), primary_key=True),
    Column("tz", String(64), nullable=False),
    Column("day", String(3), nullable=False),
    Column("hour", Integer, nullable=False),
    Column("enabled", Integer, nullable=False),
)

# Documents handed back to memory to be read by its LLM (notes stored as text only before):
# never handed back twice, across restarts.
refiled = Table(
    "refiled",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("document_id", String(160), primary_key=True),
    Column("operation_id", String(64), nullable=True),
    Column("refiled_at", DateTime(timezone=True), nullable=False),
)

# What a rep's last brief on a prospect showed, so the next one can say what is new.
brief_views = Table(
    "brief_views",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("rep_id", String(32), primary_key=True),
    Column("slug", String(128), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Column("call_ids", Text, nullable=False),  # JSON list
    Column("labels", Text, nullable=False),  # JSON list, every news label seen so far
)

# One row per rep and period, claimed before a scheduled digest is sent: never sent twice.
digest_runs = Table(
    "digest_runs",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("rep_id", String(32), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("status", String(16), nullable=False),  # claimed, sent, failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("claimed_until", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


# Erasures: one row per confirmed request, kept across a memory outage or a restart until
# memory has deleted everything. It keeps an opaque id and counts, never the prospect's name
# (the name waits here only until the receipt that names it is sent, then it is wiped).
erasures = Table(
    "erasures",
    metadata,
    Column("request_id", String(32), primary_key=True),
    Column("workspace_id", String(32), nullable=False),
    Column("requested_by", String(32), nullable=False),
    Column("requested_at", DateTime(timezone=True), nullable=False),
    Column("scope", String(16), nullable=False),  # "prospect" (every rep's calls) or "mine"
    Column("receipt_name", String(200), nullable=True),  # wiped when the receipt is sent
    Column("notes", Integer, nullable=False),  # calls erased
    Column("waiting", Integer, nullable=False),  # of which had not reached memory yet
    Column("documents", Integer, nullable=True),  # memory documents deleted (None: not yet)
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # Only for a request made by an older version, which erased by the prospect's tag.
    Column("legacy_slug", String(128), nullable=True),
    # Not before then: one finisher at a time (a lease, across replicas), or memory refused
    # the deletion and it is tried again later.
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("refusals", Integer, nullable=False, server_default="0"),  # rep told at the first
    Index("erasures_unfinished", "finished_at"),
)

# The calls an erasure takes, recorded when it was confirmed: memory deletes exactly these
# (never a call logged afterwards), and one that reaches memory later is deleted on arrival.
erased_calls = Table(
    "erased_calls",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("request_id", String(32), nullable=False, index=True),
    # Memory's own queued filing of the call (with an LLM), when it had one at erasure: its
    # document is deleted only once that filing has ended, or it would appear afterwards.
    Column("operation_id", String(64), nullable=True),
)

# Memory's operation records of each call (they hold the note as sent, and a server other
# than the embedded one keeps them until its own retention ends): an erasure deletes them.
filed_operations = Table(
    "filed_operations",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("operation_id", String(64), primary_key=True),
)

# The operation records an erasure deletes once memory's part is done.
erased_operations = Table(
    "erased_operations",
    metadata,
    Column("request_id", String(32), primary_key=True),
    Column("operation_id", String(64), primary_key=True),
)

# The bot's own DMs about a call (its confirmations), so an erasure can delete them too.
confirmations = Table(
    "confirmations",
    metadata,
    Column("call_id", String(128), primary_key=True),
    Column("ts", String(32), primary_key=True),
    Column("channel", String(32), nullable=False),
)

# One row per rep and local day a quiet-deal alert was claimed: never two DMs a day.
alert_runs = Table(
    "alert_runs",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("rep_id", String(32), primary_key=True),
    Column("day", Date, primary_key=True),
)

# Reps who turned quiet-deal alerts off (on by default).
alerts_off = Table(
    "alerts_off",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("rep_id", String(32), primary_key=True),
)

# A rep's snoozed prospects: no quiet alert, and "snoozed until" in the digest, until then.
snoozes = Table(
    "snoozes",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("rep_id", String(32), primary_key=True),
    Column("slug", String(128), primary_key=True),
    Column("until", Date, nullable=False),
)

# Each prospect's health as its latest model-made brief judged it, for App Home.
deal_health = Table(
    "deal_health",
    metadata,
    Column("workspace_id", String(32), primary_key=True),
    Column("slug", String(128), primary_key=True),
    Column("score", Integer, nullable=False),
    Column("label", String(32), nullable=False),
    Column("momentum", String(16), nullable=False),
    Column("briefed_on", Date, nullable=False),
    Column("open_commitments", Integer, nullable=False),
    Column("next_due", Date, nullable=True),  # the earliest due date of an open commitment
    # Whose brief judged it ("" before this was kept): under NOTES_VISIBILITY=own a rep sees
    # only the verdicts of their own briefs.
    Column("judged_by", String(32), nullable=False, server_default=""),
)

# One row per question asked of the model (bot.infra.llm): for the usage stats, no prompt or answer.
llm_usage = Table(
    "llm_usage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(32), nullable=False),
    Column("task", String(32), nullable=False),
    Column("model", String(128), nullable=False),
    Column("ok", Integer, nullable=False),
    Column("escalated", Integer, nullable=False),
    Column("reason", String(400), nullable=True),
    Column("requests", Integer, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("llm_usage_by_workspace", "workspace_id", "at"),
    Index("llm_usage_by_age", "at"),
)

# Follow-up drafts shown to a rep, for two weeks, so "Log as sent" can log what was shown.
# A 👍 or 👎 on an answer: the task and the time, never who or what (memory/index_usage.py).
answer_feedback = Table(
    "answer_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workspace_id", String(32), nullable=False),
    Column("task", String(32), nullable=False),
    Column("helpful", Integer, nullable=False),  # 1: 👍, 0: 👎
    Column("at", DateTime(timezone=True), nullable=False),
    Index("answer_feedback_by_workspace", "workspace_id", "at"),
)

drafts = Table(
    "drafts",
    metadata,
    Column("draft_id", String(32), primary_key=True),
    Column("workspace_id", String(32), nullable=False),
    Column("rep_id", String(32), nullable=False),
    Column("prospect", String(200), nullable=False),
    Column("recipient", String(200), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("drafts_by_age", "created_at"),
)

# Slack requests some process has started on (an event id, or a command's or action's trigger
# id), so a retry reaching another replica, or this one after a restart, does nothing twice.
# Rows go once older than memory/index_requests.KEEP_CLAIMS.
handled_requests = Table(
    "handled_requests",
    metadata,
    Column("request_key", String(128), primary_key=True),
    Column("claimed_at", DateTime(timezone=True), nullable=False),
    Index("handled_requests_by_age", "claimed_at"),
)
