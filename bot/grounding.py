"""Checking a draft against memory: every name, date, price, percentage and document code it
states must appear in the prospect's notes, or it is not shown.

Claims are found by their shape, not understood: amounts with a currency, percentages, dates
with a month name or in ISO form, acronyms and document codes (SOC2, DPA, ISO 27001), and
capitalised words that are not where a sentence starts (names, mostly). Each must occur in the
notes (a date also as the day of a call). A capitalised word at the start of a sentence is only
checked as part of a full name ("Tom Reyes said…"), so "Thanks" and "Following" pass; a line
break starts a sentence too (a greeting, a sign-off).

A note that gives orders to an AI ("ignore previous instructions…") grounds nothing: what it
says is kept in memory and shown as typed, but no draft may repeat it as fact.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
_MONTH = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONEY = re.compile(
    r"(?:[$€£]\s?(\d[\d,]*(?:\.\d+)?)\s?([km])?\b)"
    r"|(?:\b(\d[\d,]*(?:\.\d+)?)\s?([km])?\s?(?:usd|eur|gbp|dollars|euros|pounds)\b)",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\b(\d+(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
# Acronyms and document codes: SOC2, DPA, ISO, EU (two or more capitals, or capitals and digits).
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*[A-Z0-9](?:-[A-Z0-9]+)*\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:['’-][A-Za-z]+)?\b")
_WORD = re.compile(r"[A-Za-z0-9]+")
_SENTENCE_END = re.compile(r"(?:[.!?:;]|\n)\s*$|^\s*$")
_ORDERS = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|prompts?|rules)\b"
    r"|\bsystem prompt\b|\byou are now\b|\bnew instructions\b",
    re.IGNORECASE | re.DOTALL,
)


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words any email may use capitalised that name nobody.
_COMMON = _set(
    "hi hello dear thanks thank best regards kind warm cheers sincerely i mr mrs ms dr prof "
    "sir madam monday tuesday "
    "wednesday thursday friday saturday sunday january february march april may june july "
    "august september october november december jan feb mar apr jun jul aug sep sept oct nov dec"
)
# Acronyms that state no fact.
_GENERIC_CODES = _set(
    "ROI FAQ PDF CEO CFO CTO CIO CISO COO VP IT HR AM PM OK TBD FYI ASAP Q1 Q2 Q3 Q4"
)
_MULTIPLIERS = {"k": 1_000.0, "m": 1_000_000.0}


def gives_orders(text: str) -> bool:
    """Whether `text` reads as instructions to an AI (a prompt injection)."""
    return bool(_ORDERS.search(text))


def _amount(number: str, suffix: str | None) -> float:
    return float(number.replace(",", "")) * _MULTIPLIERS.get((suffix or "").lower(), 1.0)


def _amounts(text: str) -> set[float]:
    found = set()
    for match in _MONEY.finditer(text):
        number, suffix = (match[1], match[2]) if match[1] else (match[3], match[4])
        found.add(_amount(number, suffix))
    return found


def _percents(text: str) -> set[float]:
    return {float(m[1]) for m in _PERCENT.finditer(text)}


def _month_days(text: str) -> set[tuple[int, int]]:
    found = set()
    for m in _DAY_MONTH.finditer(text):
        found.add((_MONTHS[m[2][:3].lower()], int(m[1])))
    for m in _MONTH_DAY.finditer(text):
        found.add((_MONTHS[m[1][:3].lower()], int(m[2])))
    for m in _ISO.finditer(text):
        found.add((int(m[2]), int(m[3])))
    return {(month, day) for month, day in found if 1 <= month <= 12 and 1 <= day <= 31}


def _names(text: str) -> list[str]:
    """Capitalised words that are not a sentence's first word, and full names anywhere."""
    names = []
    for match in _CAPITALISED.finditer(text):
        word = match[0]
        if word.lower() in _COMMON:
            continue
        starts_sentence = bool(_SENTENCE_END.search(text[: match.start()]))
        if starts_sentence:
            after = text[match.end() :]
            follower = re.match(r"\s+([A-Z][a-z]+)\b", after)
            if follower is None or follower[1].lower() in _COMMON:
                continue
        names.append(word)
    return names


@dataclass(frozen=True)
class Grounds:
    """What memory holds about a prospect, in the forms a draft's claims are checked against."""

    words: frozenset[str]
    codes: frozenset[str]
    amounts: frozenset[float]
    percents: frozenset[float]
    month_days: frozenset[tuple[int, int]]

    @classmethod
    def of(cls, texts: Iterable[str], dates: Iterable[date] = ()) -> Grounds:
        """Grounds from note texts (those that give orders are left out) and call dates."""
        trusted = [t for t in texts if t and not gives_orders(t)]
        joined = "\n".join(trusted)
        return cls(
            words=frozenset(w.lower() for w in _WORD.findall(joined)),
            codes=frozenset(_CODE.findall(joined)),
            amounts=frozenset(_amounts(joined)),
            percents=frozenset(_percents(joined)),
            month_days=frozenset(_month_days(joined)) | {(d.month, d.day) for d in dates},
        )

    def knows_name(self, name: str) -> bool:
        """Every word of `name` occurs in the notes."""
        words = [w.lower() for w in _WORD.findall(name)]
        return bool(words) and all(w in self.words for w in words)

    def unfounded(self, text: str) -> list[str]:
        """What `text` states that the notes do not hold, each in a few words."""
        problems = []
        for amount in sorted(_amounts(text) - self.amounts):
            problems.append(f"the amount {amount:,.0f} is in no note")
        for percent in sorted(_percents(text) - self.percents):
            problems.append(f"{percent:g}% is in no note")
        for month, day in sorted(_month_days(text) - self.month_days):
            problems.append(f"the date {day} {list(_MONTHS)[month - 1].title()} is in no note")
        for code in dict.fromkeys(_CODE.findall(text)):
            if code not in self.codes and code not in _GENERIC_CODES:
                problems.append(f"{code} is in no note")
        for name in dict.fromkeys(_names(text)):
            if not self.knows_name(name):
                problems.append(f"{name!r} is named in no note")
        return problems


_SENTENCES = re.compile(r"(?<=[.!?])\s+")


def without_unfounded(text: str, grounds: Grounds) -> tuple[str, int]:
    """`text` with every sentence that states something the notes do not hold taken out, and
    how many were taken out. Line breaks between paragraphs are kept."""
    removed = 0
    lines = []
    for line in text.split("\n"):
        kept = []
        for sentence in _SENTENCES.split(line):
            if sentence.strip() and grounds.unfounded(sentence):
                removed += 1
            else:
                kept.append(sentence)
        lines.append(" ".join(kept).rstrip())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip(), removed
