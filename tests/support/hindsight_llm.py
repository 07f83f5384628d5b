"""Answers the loopback Groq gives Hindsight's own LLM requests (fact extraction, consolidation,
its start-up probe, reflect's tool loop), the way a model would, by simple rules.

Reflect: its tools are called in the order offered, with the question as the query; the bot's
cited-answer reflect gets a line per memory its tools returned that shares a word with the
question, made of that memory's own text and citing its id inline, as the bot asks; the
structured pass reads those lines back into sentences and ids.

Extraction: one fact per sentence of the note, classified with the bank's entity labels by
keywords (pricing, security, a decision maker …), so tests can see tagged facts such as
`objection:pricing`. Consolidation: one observation per new fact, except that a fact which
settles a topic (the budget approved, the security review passed) updates the shown observations
on that topic to say so, keeping what they said as history, and a fact saying a topic is no
longer an issue retires them. A note's text is data here as for a real model: "ignore previous
instructions" is just another sentence.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from tests.support.fake_groq import Behaviour

# label key -> (value, words that make a sentence carry it)
_RULES: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    "objection": [
        ("pricing", re.compile(r"\b(price|pricing|expensive|cost|discount)", re.I)),
        ("security_compliance", re.compile(r"\b(security|compliance|gdpr|soc ?2|residency)", re.I)),
        ("legal", re.compile(r"\b(legal|contract|dpa|lawyer)", re.I)),
        ("timing", re.compile(r"\b(next quarter|not now|later this year|timing)", re.I)),
        ("competitor", re.compile(r"\b(competitor|stripe|salesforce|hubspot) ", re.I)),
    ],
    "buying_signal": [
        ("budget_approved", re.compile(r"budget (is |was )?approved", re.I)),
        ("pilot", re.compile(r"\b(pilot|trial)\b", re.I)),
    ],
    "stakeholder_role": [
        ("decision_maker", re.compile(r"\b(signs off|final say|decides|decision maker)", re.I)),
        ("champion", re.compile(r"\bchampion", re.I)),
    ],
}
_WORD = re.compile(r"[a-z0-9]{4,}")
_IGNORED = {"what", "which", "with", "about", "deals", "deal", "this", "that", "month", "since"}
# A UUID no memory has: what a model citing an id it was never shown writes.
INVENTED_UUID = "0b5e7c4e-1111-4222-8333-944455556666"
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
# "Talked to Vexa Smith …": the person named is the fact's entity, as a model would see.
_TALKED_TO = re.compile(r"\btalked to ((?:[A-Z][A-Za-z0-9]+)(?: [A-Z][A-Za-z0-9]+)*)", re.I)
_NEW_FACT = re.compile(
    r"^\[([0-9a-f-]{36})\] (.+?)(?: \((?:occurred_start|occurred_end|mentioned_at)=.*\))?$", re.M
)
# What a sales observation is about, and the words by which a later fact settles it or drops it.
_TOPICS: dict[str, re.Pattern[str]] = {
    "budget": re.compile(r"\bbudget", re.I),
    "security": re.compile(r"\b(security|soc ?2|pen ?test)", re.I),
    "legal": re.compile(r"\b(legal|dpa|contract)", re.I),
    "pricing": re.compile(r"\b(price|pricing|discount|quote)", re.I),
}
_SETTLED = re.compile(
    r"\b(approved|passed|cleared|signed|accepted|unfrozen|lifted|resolved)\b", re.I
)
_DROPPED = re.compile(r"\bno longer\b", re.I)
_PRESENT = re.compile(r"\b(is|are)\b")


def _label_keys(system: str) -> dict[str, bool]:
    """The label groups the bank declared, read from the JSON schema the system prompt ends
    with: key -> whether it takes a list of values (multi-values) rather than one."""
    marker = "matching this schema:\n"
    if marker not in system:
        return {}
    schema = json.loads(system.rsplit(marker, 1)[1])
    labels = schema.get("$defs", {}).get("Labels", {}).get("properties", {})
    return {key: spec.get("type") == "array" for key, spec in labels.items()}


def extract_facts(body: dict[str, Any]) -> dict[str, Any]:
    system = body["messages"][0]["content"]
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    note = user.split("Content:\n", 1)[-1].strip()
    keys = _label_keys(system)
    facts = []
    for sentence in filter(None, (s.strip() for s in _SENTENCE.split(note))):
        fact: dict[str, Any] = {
            "what": sentence,
            "when": "N/A",
            "where": "N/A",
            "who": "N/A",
            "why": "N/A",
            "fact_type": "world",
            "fact_kind": "conversation",
            "entities": _TALKED_TO.findall(sentence),
        }
        if keys:
            labels: dict[str, Any] = {}
            for key, many in keys.items():
                values = [value for value, words in _RULES.get(key, []) if words.search(sentence)]
                labels[key] = values if many else (values[0] if values else None)
            fact["labels"] = labels
        facts.append(fact)
    return {"facts": facts}


def _topics(text: str) -> set[str]:
    return {topic for topic, words in _TOPICS.items() if words.search(text)}


def _as_history(text: str) -> str:
    """An observation's state put in the past: "Budget is frozen" -> "Budget was frozen"."""
    return _PRESENT.sub(lambda m: "was" if m.group(1) == "is" else "were", text, count=1)


def consolidate(body: dict[str, Any]) -> dict[str, Any]:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    new_facts, _, shown = user.split("### New facts", 1)[-1].partition("### Existing observations")
    # The observations recalled for these facts (in their scope only): a JSON array.
    observations: list[dict[str, Any]] = json.loads(shown.strip() or "[]")
    creates: list[dict[str, Any]] = []
    updates: dict[str, dict[str, Any]] = {}  # at most one update per observation
    deletes: dict[str, dict[str, Any]] = {}
    for fact_id, text in _NEW_FACT.findall(new_facts):
        topics = _topics(text)
        on_topic = [o for o in observations if topics & _topics(o["text"])]
        if on_topic and _DROPPED.search(text):
            for obs in on_topic:
                deletes[obs["id"]] = {"observation_id": obs["id"], "reason": f"Retired: {text}"}
        elif on_topic and _SETTLED.search(text):
            for obs in on_topic:
                if obs["id"] in updates:
                    updates[obs["id"]]["source_fact_ids"].append(fact_id)
                    continue
                current = obs["text"]
                # What it was, kept as history, then what it is now; an observation that
                # already says it is settled only gains the fact as evidence.
                now = f"{_as_history(current.rstrip('.'))}; later {text[:1].lower()}{text[1:]}"
                updates[obs["id"]] = {
                    "observation_id": obs["id"],
                    "current_text": current,
                    "text": current if _SETTLED.search(current) else now,
                    "source_fact_ids": [fact_id],
                    "reason": f"State change of the {'/'.join(sorted(topics))} observation.",
                }
            continue
        creates.append(
            {"text": text, "source_fact_ids": [fact_id], "reason": "No observation covers it."}
        )
    return {
        "creates": creates,
        "updates": [u for oid, u in updates.items() if oid not in deletes],
        "deletes": list(deletes.values()),
    }


def _asked(prompt: str) -> str | None:
    """The rep's question, when `prompt` is the bot's cited-answer reflect."""
    if "<question>" not in prompt:
        return None
    return str(json.loads(prompt.split("<question>", 1)[1].split("</question>")[0]))


def _seen_memories(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The facts reflect's tools returned so far, by their alias, first seen first."""
    seen: dict[str, dict[str, Any]] = {}
    for message in messages:
        if message.get("role") != "tool":
            continue
        try:
            output = json.loads(message.get("content") or "")
        except json.JSONDecodeError:
            continue
        for memory in output.get("memories", []) if isinstance(output, dict) else []:
            seen.setdefault(memory["id"], memory)
    return list(seen.values())


def _cited_line(memory: dict[str, Any], alias: str) -> str:
    """One sentence made of a memory's own text, naming its prospect and call date."""
    metadata = memory.get("metadata") or {}
    day = date.fromisoformat(metadata.get("date", "2000-01-01"))
    text = memory["text"].strip().rstrip(".!?")
    return f"On {day.day} {day:%b}, {metadata.get('prospect', '')}: {text}. [{alias}]"


def cited_done(question: str, messages: list[dict[str, Any]], lying: bool) -> dict[str, Any]:
    """`done` for the bot's reflect: a line per memory that shares a word with the question
    (every memory when none does), citing it inline as asked. Lying, it adds a person no
    memory names, and true text citing ids it was never shown (an alias and a UUID)."""
    memories = _seen_memories(messages)
    words = set(_WORD.findall(question.lower())) - _IGNORED
    hits = [m for m in memories if words & set(_WORD.findall(m["text"].lower()))] or memories
    lines = [_cited_line(m, m["id"]) for m in hits]
    if lying and memories:
        lines += [
            f"Maria Lopez approved the deal. [{memories[0]['id']}]",
            _cited_line(memories[0], "f99"),
            _cited_line(memories[-1], INVENTED_UUID),
        ]
    return {
        "answer": "\n".join(lines) or "Nothing in memory answers this.",
        "answer_found": bool(lines),
        "memory_ids": [m["id"] for m in hits],
    }


def extract_cited(answer: str) -> dict[str, Any]:
    """The structured pass over a cited answer: a sentence per line, with its bracketed ids."""
    sentences = []
    for line in filter(None, (raw.strip() for raw in answer.splitlines())):
        text, _, cited = line.rpartition("[")
        ids = [i.strip() for i in cited.rstrip("]").split(",")] if text else []
        sentences.append({"text": text.strip() or line, "note_ids": ids})
    return {"sentences": sentences, "answer_found": bool(sentences)}


def _reflect_tool(body: dict[str, Any], lying: bool) -> Behaviour:
    """A step of reflect's loop: the one tool offered, else `done`."""
    messages = body.get("messages") or []
    tools = [t["function"]["name"] for t in body["tools"]]
    name = tools[0] if len(tools) == 1 else "done"
    question = _asked(next((m["content"] for m in messages if m["role"] == "user"), ""))
    if name == "done" and question is not None:
        return "tool", (name, cited_done(question, messages, lying))
    arguments = (
        {"answer": "Nothing to add.", "answer_found": False, "memory_ids": []}
        if name == "done"
        else {"reason": "look", "query": question or "sales call"}
    )
    return "tool", (name, arguments)


def answer_hindsight(
    body: dict[str, Any], lying: bool = False, unusable: bool = False
) -> Behaviour:
    """What the stand-in answers to one of Hindsight's requests (`lying`: reflect's answers
    add what no memory holds; `unusable`: its structured step gives no sentences)."""
    messages = body.get("messages") or []
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else ""
    first_user = next((m["content"] for m in messages if m["role"] == "user"), "")
    if body.get("tools"):
        return _reflect_tool(body, lying)
    if system.startswith("Extract"):
        return "json", extract_facts(body)
    if system.startswith("You are a memory consolidation system."):
        return "json", consolidate(body)
    if "You reconcile long-term" in first_user:
        return "json", {"action": "keep", "text": "", "reason": "distinct"}
    if system.startswith("You are a precise data extraction assistant"):
        if "note_ids" not in first_user or unusable:
            return "json", {}
        answer = first_user.split('ANSWER TO EXTRACT FROM:\n"""\n', 1)[-1].split('\n"""')[0]
        return "json", extract_cited(answer)
    return "text", "ok"
