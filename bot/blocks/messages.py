"""Messages several features share: plain-words failures, stale buttons, what teammates
logged."""

from __future__ import annotations

MEMORY_DOWN = (
    "I can't reach the memory service right now, so I can't show that. "
    "Nothing you logged is lost — please try again in a minute."
)
STALE_BUTTON = (
    "That button is out of date or was not made by me, so I couldn't act on it. "
    "Run the command again (e.g. `/timeline <prospect>`)."
)

NO_WORKSPACE = (
    "Slack did not say which workspace or person this came from, so I did nothing. "
    "Please try again; if it keeps happening, reinstall the app in your workspace."
)


def teammates_note(count: int) -> str:
    """NOTES_VISIBILITY=own: how many calls other reps logged on the prospect, never what."""
    calls = f"{count} call{'s' if count != 1 else ''}"
    return f"👥 {calls} by teammates, not shown: you see only the calls you logged."


def something_broke(ref: str) -> str:
    """An unexpected failure, in plain words, with the id the log line carries."""
    return (
        f"Something went wrong on my side and I couldn't finish that (reference {ref}). "
        "It has been logged; please try again in a minute."
    )
