"""What a question may read, decided in code before memory is read: the prospects the rep may
see (NOTES_VISIBILITY), the ones the question names (or the one an earlier turn named, when it
says "she" or "they"), and the period it names. Nothing a rep types can widen it: a prospect
they may not see is not among the names looked for, so it reads as an unknown one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from bot.ask.period import Period, find_period
from bot.domain.grounding import fold
from memory.index import KnownProspect

if TYPE_CHECKING:
    from bot.services import Services

MAX_QUESTION = 2000  # characters
MAX_NAMED = 5  # prospects one question reads in full
MAX_CHOICES = 5
_WORD = re.compile(r"[^\W_]+")
# A follow-up that points back at the prospect of an earlier turn.
_POINTS_BACK = re.compile(
    r"\b(she|he|her|him|his|hers|they|them|their|theirs|this deal|that deal|this prospect"
    r"|that prospect|this account|that account)\b",
    re.IGNORECASE,
)
# Words of a question that are also someone's name: only a capitalised one names a prospect.
_ORDINARY_WORDS = (
    "will may mark bill grant chase rose hope joy faith price wade dean miles sandy summer "
    "june april august pat ray frank drew gene rich win max long young king hill brown green "
    "white black best call deal sales team what when where which who how"
)
_ORDINARY = frozenset(_ORDINARY_WORDS.split())


@dataclass(frozen=True)
class Scope:
    """What one question may read."""

    seen_by: str | None  # NOTES_VISIBILITY=own: only this rep's calls; None: the workspace's
    pipeline: list[KnownProspect]  # every prospect the rep may see
    named: list[KnownProspect] = field(default_factory=list)  # empty: the whole pipeline
    period: Period | None = None
    choices: list[str] = field(default_factory=list)  # a name that fits several prospects

    @property
    def searched(self) -> int:
        """How many prospects the answer looked at."""
        return len(self.named) if self.named else len(self.pipeline)

    @property
    def pipeline_wide(self) -> bool:
        return not self.named


def _words(text: str) -> list[str]:
    return [fold(w) for w in _WORD.findall(text)]


def _spoken(words: Sequence[str]) -> str:
    return f" {' '.join(words)} "


def named_prospects(
    question: str, known: Sequence[KnownProspect]
) -> tuple[list[KnownProspect], list[str]]:
    """The prospects `question` names (a full name or company in any case and accents, or one
    word of a name that fits one prospect alone), and the names to choose from when a word
    fits several."""
    said = _spoken(_words(question))
    capitalised = {fold(w) for w in _WORD.findall(question) if w[:1].isupper()}
    named: dict[str, KnownProspect] = {}
    for prospect in known:
        for whole in (prospect.name, prospect.company):
            words = _words(whole)
            if words and len("".join(words)) >= 3 and _spoken(words) in said:
                named.setdefault(prospect.slug, prospect)
    by_word: dict[str, list[KnownProspect]] = {}
    for prospect in known:
        for word in dict.fromkeys(_words(prospect.name)):
            if len(word) >= 3:
                by_word.setdefault(word, []).append(prospect)
    choices: list[str] = []
    for word in dict.fromkeys(said.split()):
        fits = by_word.get(word, [])
        if not fits or any(p.slug in named for p in fits):
            continue
        if word in _ORDINARY and word not in capitalised:
            continue
        if len(fits) == 1:
            named[fits[0].slug] = fits[0]
        else:
            choices.extend(p.name for p in fits if p.name not in choices)
    return list(named.values())[:MAX_NAMED], choices[:MAX_CHOICES]


async def scope_question(
    services: Services,
    workspace_id: str,
    rep_id: str,
    question: str,
    today: date,
    earlier: Sequence[str] = (),
) -> Scope:
    """The scope of `question`, asked by `rep_id` on `today` (their calendar), after the
    rep's `earlier` questions in the same conversation (oldest first)."""
    seen_by = services.seen_by(rep_id)
    pipeline = await services.index.known_prospects(workspace_id, seen_by)
    named, choices = named_prospects(question, pipeline)
    if not named and not choices and _POINTS_BACK.search(question):
        for before in reversed(earlier):
            named, _ = named_prospects(before, pipeline)
            if named:
                break
    period = find_period(question, today)
    if period is None and not _words_of_substance(question):
        # "and this month?" carries the earlier turn's period only when it names none itself.
        period = next((p for q in reversed(earlier) if (p := find_period(q, today))), None)
    return Scope(seen_by, pipeline, named, period, choices)


def _words_of_substance(question: str) -> bool:
    """Whether a question says more than a pronoun or two ("and her?")."""
    return len(_words(question)) > 3
