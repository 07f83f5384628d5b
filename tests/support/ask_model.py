"""How the loopback Groq answers a question about the notes, by simple rules: one sentence per
note that shares a word with the question, made of that note's own first sentence, naming the
prospect and the note's date, citing the note. A lying variant adds what no note says."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from tests.support.fake_groq import Behaviour

_WORD = re.compile(r"[a-z0-9]{4,}")
_IGNORED = {"what", "which", "with", "about", "deals", "deal", "this", "that", "month", "since"}


def given_notes(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The notes the bot gave the model, as it quoted them."""
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    notes: list[dict[str, Any]] = json.loads(prompt.split("<notes>\n", 1)[1].split("\n</notes>")[0])
    return notes


def asked(body: dict[str, Any]) -> str:
    prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
    return str(json.loads(prompt.split("<question>", 1)[1].split("</question>")[0]))


def _sentence(note: dict[str, Any]) -> str:
    first = re.split(r"(?<=[.!?])\s+", note["text"].strip())[0].rstrip(".!?")
    day = date.fromisoformat(note["date"])
    who = note["prospect"].split(" (")[0]
    return f"On {day.day} {day:%b}, {who}: {first}."


def honest(body: dict[str, Any]) -> Behaviour:
    """Every note sharing a word with the question, or every note when none does."""
    notes = given_notes(body)
    words = set(_WORD.findall(asked(body).lower())) - _IGNORED
    hits = [n for n in notes if words & set(_WORD.findall(n["text"].lower()))] or notes
    sentences = [{"text": _sentence(n), "note_ids": [n["id"]]} for n in hits]
    return "json", {"sentences": sentences, "answer_found": bool(sentences)}


def lying(body: dict[str, Any]) -> Behaviour:
    """The honest answer, plus a person, a price and a note id that no note holds."""
    _, answer = honest(body)
    first = given_notes(body)[0]["id"]
    answer["sentences"] += [
        {"text": "Maria Lopez approved the deal.", "note_ids": [first]},
        {"text": "They will pay $90k a year.", "note_ids": [first]},
        {"text": "The contract is signed.", "note_ids": ["n999"]},
    ]
    return "json", answer
