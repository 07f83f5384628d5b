"""Block Kit for asking memory: a cited answer, the notes as typed when there is none, and the
messages for a question that cannot be asked. Every text a rep or a model wrote is escaped."""

from __future__ import annotations

from typing import Any

from bot.ask.answer import AskAnswer, Cited, Source
from bot.ask.scope import MAX_QUESTION, Scope
from bot.blocks import ids
from bot.blocks.limits import (
    MESSAGE_BLOCKS,
    SECTION_TEXT,
    button,
    escape_mrkdwn,
    mrkdwn,
    quote_input,
)

EXAMPLES = (
    "what did we promise Rentokil?",
    "which of my deals raised SOC2 this month?",
    "who signs off at Paysend, and why?",
    "what changed with James since October?",
)
# A message's text (not a block) holds 40,000 characters: a refused question is given back
# whole, a long one cut well before that.
MESSAGE_TEXT = 35_000
SOURCE_SNIPPET = 280  # characters of a note shown under "Sources"
MAX_SENTENCES = 20
MAX_TIMELINE_BUTTONS = 5
FEEDBACK = (("👍", "up"), ("👎", "down"))


def citation(source: Source) -> str:
    """ "Priya Sharma · 14 Oct", escaped."""
    when = f"{source.call_date:%-d %b}" if source.call_date else "undated"
    return f"{escape_mrkdwn(source.prospect)} · {when}"


def _examples() -> str:
    return "\n".join(f"• `/ask {example}`" for example in EXAMPLES)


def usage_text() -> str:
    return (
        "Ask me anything about your prospects, in plain words, and I'll answer from the notes "
        f"your team logged, citing each one. For example:\n{_examples()}"
    )


def too_long_text(question: str) -> str:
    """The refusal, with the question given back so nothing typed is lost."""
    kept = escape_mrkdwn(question).replace("`", "'")[:MESSAGE_TEXT]
    return (
        f"That question is {len(question):,} characters; I can take {MAX_QUESTION:,} at most. "
        f"Here it is so you can shorten it:\n```{kept}```"
    )


def memory_down_text(question: str) -> str:
    return (
        "I can't reach the memory service right now, so I can't answer that. "
        f"Your question, to ask again in a minute: “{quote_input(question, 1500)}”"
    )


def _asked(question: str) -> dict[str, Any]:
    return {"type": "context", "elements": [mrkdwn(f"You asked: “{quote_input(question)}”")]}


def _searched(scope: Scope, dropped: int = 0) -> dict[str, Any]:
    count = scope.searched
    what = [f"Searched {count} prospect{'s' if count != 1 else ''}"]
    if scope.period is not None:
        what.append(f"{scope.period.start:%-d %b %Y} – {scope.period.end:%-d %b %Y}")
    if dropped:
        what.append(
            f"{dropped} sentence{'s' if dropped != 1 else ''} left out: not borne out by the notes"
        )
    return {"type": "context", "elements": [mrkdwn(" · ".join(what))]}


def _sentence(index: int, sentence: Cited) -> dict[str, Any]:
    cites = "; ".join(dict.fromkeys(citation(s) for s in sentence.sources))
    return {
        "type": "section",
        "block_id": f"ask_sentence_{index}",
        "text": mrkdwn(f"{escape_mrkdwn(sentence.text)}  _({cites})_"),
    }


def _sources(sources: list[Source]) -> list[dict[str, Any]]:
    lines = []
    for source in sources:
        snippet = " ".join(source.text.split())
        if len(snippet) > SOURCE_SNIPPET:
            snippet = snippet[: SOURCE_SNIPPET - 1] + "…"
        lines.append(f"*{citation(source)}* — {escape_mrkdwn(snippet)}")
    blocks: list[dict[str, Any]] = [{"type": "section", "text": mrkdwn("*Sources*")}]
    # A context block holds at most 10 elements: one per note, in as many blocks as needed.
    for start in range(0, len(lines), 10):
        elements = [mrkdwn(line) for line in lines[start : start + 10]]
        blocks.append({"type": "context", "elements": elements})
    return blocks


def _actions(sources: list[Source], feedback: bool) -> dict[str, Any]:
    names = list(dict.fromkeys(s.prospect for s in sources))[:MAX_TIMELINE_BUTTONS]
    elements = [
        button(f"Timeline: {name}", f"{ids.OPEN_TIMELINE_ACTION}_ask{i}", name)
        for i, name in enumerate(names)
    ]
    if feedback:
        elements += [
            button(face, f"{ids.ASK_FEEDBACK_ACTION}_{value}", value) for face, value in FEEDBACK
        ]
    return {"type": "actions", "block_id": "ask_actions", "elements": elements}


def _verbatim(answer: AskAnswer) -> list[dict[str, Any]]:
    """The best-matching notes as typed, labelled: never an answer nobody checked."""
    why = escape_mrkdwn(answer.fallback_reason or "")
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "What memory holds"}},
        {
            "type": "context",
            "elements": [
                mrkdwn(f"No written answer ({why}): these are the notes that match best, as typed.")
            ],
        },
    ]
    for source in answer.verbatim:
        outcome = f" · {escape_mrkdwn(source.outcome)}" if source.outcome else ""
        blocks.append(
            {
                "type": "section",
                "text": mrkdwn(f"*{citation(source)}*{outcome}\n{escape_mrkdwn(source.text)}"),
            }
        )
    return blocks


def _choices(scope: Scope) -> str:
    names = ", ".join(escape_mrkdwn(n) for n in scope.choices)
    return f"That name fits several prospects: {names}. Ask again with the full name."


def build_answer_blocks(answer: AskAnswer) -> list[dict[str, Any]]:
    """The message that answers a question, whatever happened."""
    scope = answer.scope
    head = [_asked(answer.question)]
    if scope.choices:
        return [*head, {"type": "section", "text": mrkdwn(_choices(scope))}]
    if not scope.pipeline:
        text = "You have no prospects in memory yet: log a call with `/log` and ask again."
        return [*head, {"type": "section", "text": mrkdwn(text)}]
    if answer.fallback_reason is not None:
        blocks = [*head, *_verbatim(answer), _searched(scope, answer.dropped)]
        return [*blocks, _actions(answer.verbatim, feedback=False)][:MESSAGE_BLOCKS]
    if not answer.sentences:
        text = "Memory holds nothing that answers this."
        blocks = [*head, {"type": "section", "text": mrkdwn(text)}, _searched(scope)]
        return blocks
    sentences = [_sentence(i, s) for i, s in enumerate(answer.sentences[:MAX_SENTENCES])]
    cited = answer.cited
    sources = _sources(cited)
    room = MESSAGE_BLOCKS - len(head) - len(sentences) - 2
    return [
        *head,
        *sentences,
        _searched(scope, answer.dropped),
        *sources[: max(room, 0)],
        _actions(cited, feedback=True),
    ]


def answer_text(answer: AskAnswer) -> str:
    """The notification text and the thread's memory of the answer: plain, no note text."""
    if answer.sentences:
        # Shown in notifications, and read back as the thread's earlier answer: escaped too.
        return escape_mrkdwn(" ".join(s.text for s in answer.sentences))[:SECTION_TEXT]
    if answer.fallback_reason is not None:
        return "What memory holds about your question"
    return "Memory holds nothing that answers this."
