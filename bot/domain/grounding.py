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

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

MONTH_NAMES = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip
# A month as written: its full name or its three-letter abbreviation ("sept" too), nothing else
# ("2 decision makers" is not 2 December).
MONTH = (
    r"(january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?"
)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH}", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b{MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_SCALE = r"(k|m|bn|thousand|million|billion)"
_CURRENCY = r"(?:usd|eur|gbp|chf|cad|aud|dollars?|euros?|pounds?)"
_MONEY = re.compile(
    rf"(?:[$€£]\s?(\d[\d,]*(?:\.\d+)?)\s?{_SCALE}?\b)"
    rf"|(?:\b{_CURRENCY}\s?(\d[\d,]*(?:\.\d+)?)\s?{_SCALE}?\b)"
    rf"|(?:\b(\d[\d,]*(?:\.\d+)?)\s?{_SCALE}?\s?{_CURRENCY}\b)"
    rf"|(?:\b(\d[\d,]*(?:\.\d+)?)\s?(k|bn)\b)",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\b(\d+(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)", re.IGNORECASE)
# Counts that state a fact: "500 seats", "3 years".
_COUNT = re.compile(
    r"\b(\d[\d,]*)\s+(seats?|users?|licen[cs]es?|years?|months?|weeks?|employees|people"
    r"|sites?|locations?|instances?)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
# Acronyms and document codes: SOC2, DPA, ISO, EU (two or more capitals, or capitals and digits).
_CODE = re.compile(r"\b[A-Z][A-Z0-9]*[A-Z0-9](?:-[A-Z0-9]+)*\b")
# A word of letters in any script, with an inner apostrophe or hyphen (O'Neil, Jean-Luc).
_LETTERS = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_WORD = re.compile(r"[^\W_]+")
# Where a sentence starts: after . ! ? or a line break (a greeting, a sign-off, a bullet), but
# not after an honorific ("Mr. Okafor" is a name, checked).
_SENTENCE_END = re.compile(r"(?:[.!?]|\n\s*[-•*]?)\s*$|^\s*[-•*]?\s*$")
_HONORIFIC = re.compile(r"\b(?:mr|mrs|ms|dr|prof|herr|frau|mme|m)\.\s*$", re.IGNORECASE)
# Orders aimed at an AI, not a rep's words about rules or instructions of their own.
_ORDERS = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*"
    r"(?:previous|prior|above|earlier|system|these)?\s*(?:instructions?|prompts?)\b"
    r"|\bsystem prompt\b|\byou are now (?:an?|the|my)\s+(?:ai|assistant|model|bot|agent)\b"
    r"|\bnew instructions\s*(?:for|to)\s+(?:the\s+)?(?:ai|assistant|model|bot)\b",
    re.IGNORECASE,
)


def fold(text: str) -> str:
    """Lower case without accents: "José" and "jose" are the same name."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words any email may use capitalised that name nobody.
_COMMON = _set(
    "hi hello dear thanks thank best regards kind warm cheers sincerely i mr mrs ms dr prof "
    "sir madam monday tuesday wednesday thursday friday saturday sunday january february march "
    "april may june july august september october november december jan feb mar apr jun jul "
    "aug sep sept oct nov dec "
    # Words that open sentences and name nobody.
    "the a an our we you your this that these those it its as if when while please looking "
    "following next after before since for with on in at to and but so let also just hope "
    "glad great good here there what which who how once until by from of my all any both each "
    "no not yes happy quick attached following further per regarding re subject"
)
# Acronyms that state no fact.
_GENERIC_CODES = _set(
    "ROI FAQ PDF CEO CFO CTO CIO CISO COO VP IT HR AM PM OK TBD FYI ASAP Q1 Q2 Q3 Q4"
)
_MULTIPLIERS = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "million": 1e6, "bn": 1e9, "billion": 1e9,
}  # fmt: skip


def gives_orders(text: str) -> bool:
    """Whether `text` reads as instructions to an AI (a prompt injection)."""
    return bool(_ORDERS.search(text))


def _amount(number: str, scale: str | None) -> float:
    return float(number.replace(",", "")) * _MULTIPLIERS.get((scale or "").lower(), 1.0)


def _amounts(text: str) -> set[float]:
    found = set()
    for match in _MONEY.finditer(text):
        groups = match.groups()
        for number, scale in zip(groups[::2], groups[1::2], strict=True):
            if number:
                found.add(_amount(number, scale))
                break
    return found


def _counts(text: str) -> set[float]:
    return {float(m[1].replace(",", "")) for m in _COUNT.finditer(text)}


def _percents(text: str) -> set[float]:
    return {float(m[1]) for m in _PERCENT.finditer(text)}


def month_number(name: str) -> int:
    """1–12 for a month's name or abbreviation as `MONTH` finds it."""
    return next(i for i, full in enumerate(MONTH_NAMES, 1) if full.startswith(name[:3].lower()))


def _month_days(text: str) -> set[tuple[int, int]]:
    found = set()
    for m in _DAY_MONTH.finditer(text):
        found.add((month_number(m[2]), int(m[1])))
    for m in _MONTH_DAY.finditer(text):
        found.add((month_number(m[1]), int(m[2])))
    for m in _ISO.finditer(text):
        found.add((int(m[2]), int(m[3])))
    return {(month, day) for month, day in found if 1 <= month <= 12 and 1 <= day <= 31}


def _bare(word: str) -> str:
    """A word without its possessive: "Acme's" is "Acme"."""
    return re.sub(r"['’]s$", "", word)


def _names(text: str) -> list[str]:
    """Capitalised words (any script) that are not a sentence's first word, and full names
    anywhere (a first word followed by another capitalised word)."""
    names = []
    for match in _LETTERS.finditer(text):
        word = _bare(match[0])
        if not word[0].isupper() or word.isupper() or fold(word) in _COMMON:
            continue
        before = text[: match.start()]
        if _SENTENCE_END.search(before) and not _HONORIFIC.search(before):
            follower = re.match(r"\s+([^\W\d_]+)", text[match.end() :])
            if (
                follower is None
                or not follower[1][0].isupper()
                or follower[1].isupper()  # an acronym, not a surname
                or fold(follower[1]) in _COMMON
            ):
                continue
        names.append(word)
    return names


@dataclass(frozen=True)
class Grounds:
    """What memory holds about a prospect, in the forms a draft's claims are checked against."""

    words: frozenset[str]  # folded
    codes: frozenset[str]  # folded words and adjacent pairs run together ("soc 2" -> "soc2")
    amounts: frozenset[float]
    percents: frozenset[float]
    numbers: frozenset[float]
    month_days: frozenset[tuple[int, int]]

    @classmethod
    def of(cls, texts: Iterable[str], dates: Iterable[date] = ()) -> Grounds:
        """Grounds from note texts (those that give orders are left out) and call dates."""
        trusted = [t for t in texts if t and not gives_orders(t)]
        joined = "\n".join(trusted)
        words = [fold(w) for w in _WORD.findall(joined)]
        return cls(
            words=frozenset(words),
            codes=frozenset(words) | {a + b for a, b in itertools.pairwise(words)},
            amounts=frozenset(_amounts(joined)),
            percents=frozenset(_percents(joined)),
            numbers=frozenset(float(n.replace(",", "")) for n in _NUMBER.findall(joined)),
            month_days=frozenset(_month_days(joined)) | {(d.month, d.day) for d in dates},
        )

    def knows_name(self, name: str) -> bool:
        """Every word of `name` occurs in the notes (any case, accents, possessive)."""
        words = [fold(_bare(w)) for w in _LETTERS.findall(name)]
        return bool(words) and all(w in self.words for w in words)

    def unfounded(self, text: str, names: bool = True) -> list[str]:
        """What `text` states that the notes do not hold, each in a few words (`names`: check
        capitalised words as names too; not in a title, where every word is capitalised)."""
        problems = []
        for amount in sorted(_amounts(text) - self.amounts):
            problems.append(f"the amount {amount:,.0f} is in no note")
        for percent in sorted(_percents(text) - self.percents):
            problems.append(f"{percent:g}% is in no note")
        for count in sorted(_counts(text) - self.numbers):
            problems.append(f"the number {count:,.0f} is in no note")
        for month, day in sorted(_month_days(text) - self.month_days):
            problems.append(f"the date {day} {MONTH_NAMES[month - 1][:3].title()} is in no note")
        for code in dict.fromkeys(_CODE.findall(text)):
            if code not in _GENERIC_CODES and fold(code).replace("-", "") not in self.codes:
                problems.append(f"{code} is in no note")
        if names:
            for name in dict.fromkeys(_names(text)):
                if not self.knows_name(name):
                    problems.append(f"{name!r} is named in no note")
        return problems


# A sentence ends at . ! or ? followed by a space, but not after an honorific ("Dr. Patel").
_SENTENCES = re.compile(r"(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bMrs\.)(?<=[.!?])\s+")


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
