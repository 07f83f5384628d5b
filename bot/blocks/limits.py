"""Slack's Block Kit limits, and mrkdwn made safe for untrusted text."""

import re

# The start of an entity `escape_mrkdwn` writes (&amp; &lt; &gt;) cut off at the end of a text.
_PARTIAL_ENTITY = re.compile(r"&(a(mp?)?|lt?|gt?)?$")

MESSAGE_BLOCKS = 50
SECTION_TEXT = 3000
HEADER_TEXT = 150
OPTION_TEXT = 75
OPTION_VALUE = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
MODAL_TITLE = 24
INPUT_MAX = 3000


def escape_mrkdwn(text: str) -> str:
    """Untrusted text as inert mrkdwn: `<!channel>`, `<@U…>`, `<url|label>` never ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    """Cut to `limit` characters with an ellipsis, never inside an escaped entity."""
    if len(text) <= limit:
        return text
    cut = _PARTIAL_ENTITY.sub("", text[: limit - 1])
    return cut + "…"


def plain(text: str, limit: int = SECTION_TEXT) -> dict[str, object]:
    return {"type": "plain_text", "text": truncate(text, limit), "emoji": True}


def mrkdwn(text: str, limit: int = SECTION_TEXT) -> dict[str, object]:
    return {"type": "mrkdwn", "text": truncate(text, limit)}


def button(text: str, action_id: str, value: str, primary: bool = False) -> dict[str, object]:
    """A button; `value` carries what the handler needs (a prospect's name, a page)."""
    element: dict[str, object] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT),
        "action_id": action_id,
        "value": value[:BUTTON_VALUE],
    }
    if primary:
        element["style"] = "primary"
    return element


def quote_input(text: str, limit: int = 200) -> str:
    """What a rep typed, shown inside a sentence: escaped, on one line, shortened, and with
    backticks replaced so it can never close a code span around it."""
    one_line = " ".join(text.split()).replace("`", "'")
    return truncate(escape_mrkdwn(one_line), limit)


def label_name(label_value: str) -> str:
    """`security_compliance` as a rep reads it: `Security/compliance`."""
    words = {"security_compliance": "security/compliance", "other": "other"}
    return escape_mrkdwn(words.get(label_value, label_value.replace("_", " ")).capitalize())
