"""Callback, block and action ids shared by builders, handlers and tests."""

LOG_MODAL_CALLBACK = "log_call"
PROSPECT_BLOCK = "prospect"
PROSPECT_ACTION = "prospect_select"
COMPANY_BLOCK = "company"
COMPANY_ACTION = "company_input"
OUTCOME_BLOCK = "outcome"
OUTCOME_ACTION = "outcome_select"
DATE_BLOCK = "call_date"
DATE_ACTION = "call_date_pick"
NOTE_BLOCK = "note"
NOTE_ACTION = "note_input"
TRANSCRIPT_BLOCK = "transcript"
TRANSCRIPT_ACTION = "transcript_input"

OPEN_LOG_ACTION = "open_log_modal"
LOG_FROM_MESSAGE_SHORTCUT = "log_from_message"
TIMELINE_PAGE_ACTION = "timeline_page"
OPEN_TIMELINE_ACTION = "open_timeline"
OPEN_BRIEF_ACTION = "open_brief"
# Follow-up drafts: buttons on briefs and confirmations, and the draft's own buttons (their
# action ids end with where they are; the value carries the prospect and the style).
DRAFT_FOLLOWUP_ACTION = "draft_followup"
LOG_FOLLOWUP_SENT_ACTION = "log_followup_sent"
# App Home: the pipeline's pages and the weekly digest's controls.
HOME_PAGE_ACTION = "home_page"
HOME_DIGEST_DAY_ACTION = "home_digest_day"
HOME_DIGEST_HOUR_ACTION = "home_digest_hour"
HOME_DIGEST_TOGGLE_ACTION = "home_digest_toggle"
HOME_DIGEST_NOW_ACTION = "home_digest_now"
HOME_ALERTS_TOGGLE_ACTION = "home_alerts_toggle"
HOME_TEAM_ACTION = "home_team"
# Snoozing a prospect from Home: the menu, and the modal that asks for a date.
HOME_SNOOZE_ACTION = "home_snooze"
SNOOZE_MODAL_CALLBACK = "snooze_until"
SNOOZE_DATE_BLOCK = "snooze_date"
SNOOZE_DATE_ACTION = "snooze_date_pick"
# Home's per-prospect actions blocks carry the prospect's slug in their block id.
HOME_PROSPECT_BLOCK = "p:"
# Forgetting a prospect: the confirmation modal.
FORGET_MODAL_CALLBACK = "forget_prospect"
# "Review and forget…" after /forget, and the timeline's menu (its id starts the same).
FORGET_REVIEW_ACTION = "forget_review"
# Asking memory: an answer's thumbs up and down (the action id ends with which).
ASK_FEEDBACK_ACTION = "ask_feedback"
