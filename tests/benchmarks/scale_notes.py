"""The call notes of the scale benchmark: a pipeline of reps, prospects and their notes, the
way reps write them, with one distinctive note planted in some prospects' histories."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from memory.prospects import prospect_slug
from memory.records import OUTCOMES, CallLog

WORKSPACE = "TSCALE"
TODAY = date(2026, 11, 20)
PLANTED_NOTE = (
    "Budget frozen until Q3: {first}'s CFO froze all new software spend after the audit, "
    "so nothing gets signed before July."
)

FIRST_NAMES = (
    "Amara Ben Carla Dev Elena Farid Grace Hiro Ines Jonas Kemi Liam Maya Nikhil Olga "
    "Pablo Quinn Rosa Sami Tara Umar Vera Wen Xavier Yara Zoltan Aisha Bruno Chloe Dmitri "
    "Esi Felix Gita Hugo Ivy Jamal Kira Luca Mina Noah Orla Priya Rami Sofia Theo Uma "
    "Viktor Willa Yusuf Zara Anders Bianca Cyrus Dalia Emil Fatima Gustav Hana Idris Jade"
)
LAST_NAMES = (
    "Okafor Lindqvist Moreau Tanaka Silva Novak Haddad Kowalski Brennan Osei Petrov "
    "Alvarez Nakamura Fischer Mensah Rossi Dubois Kaur Horvat Quispe Sato Jensen Barros "
    "Eriksen Adeyemi Costa Weber Ivanova Murphy Chen Larsen Duarte Ahmed Kovacs Oyelaran "
    "Bauer Romano Lund Park Varga Nilsson Ferreira Gallo Hughes Ito Keller Lopez Meyer "
    "Nagy Olsen Pereira Quinn Reyes Schmidt Torres Vogel Walsh Yilmaz Zhou Abbott Bishop "
    "Castro Doyle Engel Fontaine Grant Hoffmann Iqbal Jovanovic Kim Lang Marsh Nash Ortiz "
    "Price Ruiz Stone Thorne Ueda Vance Wolfe Young Ziegler Acosta Blake Cruz Dunn Ellis "
    "Frost Gill Hale Irwin Joyce Knight Lowe"
)
COMPANY_HEADS = "North Blue Iron Silver Bright Clear Swift Cedar Harbor Summit Prairie Atlas"
COMPANY_TAILS = "wind stone field bridge line path works labs grid point forge river"
ROLES = ["CFO", "CTO", "head of IT", "VP of Sales", "procurement lead", "COO", "security lead"]
COMPETITORS = ["Stripe", "Salesforce", "HubSpot", "Gong", "Outreach", "Zendesk", "Pipedrive"]
SYSTEMS = ["SAP", "NetSuite", "Salesforce", "an in-house CRM", "Oracle", "Dynamics", "Excel"]
TEAMS = ["finance", "support", "operations", "sales", "marketing", "data", "IT"]
MONTHS = ["January", "March", "April", "June", "September", "October", "December"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
SENTENCES = (
    "{first} asked for a {pct}% discount if they sign before the end of the quarter.",
    "Pricing came up again: {competitor} quoted them {pct}% less for the same seats.",
    "The {role} wants a security review before legal looks at the contract.",
    "They are evaluating {competitor} in parallel and expect to decide in {month}.",
    "Agreed to a {weeks}-week pilot with the {team} team.",
    "{first} worries about the effort of migrating off {system}.",
    "Next step: send the ROI model to {first} by {weekday}.",
    "The {role} joined the call and asked about SSO and audit logs.",
    "Integration with {system} is a must-have for the {team} team.",
    "No decision until their reorg settles; {first} will come back in {month}.",
    "Demo went well; {first} wants to bring in the {role} next time.",
    "Contract redlines are with their legal team, expected back by {weekday}.",
    "They left {competitor} last year over slow support answers.",
    "Trial usage doubled this week and the {team} team asked for {seats} more seats.",
    "{first} needs sign-off from the {role} for anything above {k}k a year.",
    "Renewal of their {system} licence in {month} could free up headcount for this.",
    "Onboarding plan agreed: {seats} users first, then the rest of the {team} team.",
    "{first} was unhappy with the response time on last week's support ticket.",
    "The {role} asked for references from two customers in their industry.",
    "Quick check-in; {first} is out until {weekday}, nothing new on the deal.",
)


@dataclass(frozen=True)
class Prospect:
    name: str
    company: str
    rep_id: str

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def slug(self) -> str:
        return prospect_slug(self.name)

    def copy(self, k: int) -> Prospect:
        """This prospect's k-th copy in a bank grown by `scale_sql.grow_bank`, whose tags end
        in `-c<k>` (`prospect:<slug>-c<k>`, `rep:<id>-c<k>`); copy 0 is the prospect itself."""
        if k == 0:
            return self
        return Prospect(f"{self.name} c{k}", self.company, f"{self.rep_id}-c{k}")


def prospects(reps: int, per_rep: int, seed: int) -> list[Prospect]:
    """reps × per_rep prospects with distinct names, each owned by one rep."""
    rng = random.Random(seed)
    names = [f"{f} {last}" for f in FIRST_NAMES.split() for last in LAST_NAMES.split()]
    rng.shuffle(names)
    heads, tails = COMPANY_HEADS.split(), COMPANY_TAILS.split()
    found = []
    for n in range(reps * per_rep):
        name = names[n % len(names)] + (f" {n // len(names) + 1}" if n >= len(names) else "")
        company = f"{heads[n % len(heads)]}{tails[(n // len(heads)) % len(tails)]}"
        found.append(Prospect(name, company.capitalize(), f"U{n // per_rep:05d}"))
    return found


def note_text(rng: random.Random, who: Prospect) -> str:
    """Two or three sentences, the way reps write them."""
    picks = rng.sample(SENTENCES, rng.choice((2, 3)))
    return " ".join(
        s.format(
            first=who.first,
            pct=rng.choice((5, 10, 12, 15, 20)),
            competitor=rng.choice(COMPETITORS),
            role=rng.choice(ROLES),
            month=rng.choice(MONTHS),
            weeks=rng.choice((2, 3, 4, 6)),
            team=rng.choice(TEAMS),
            system=rng.choice(SYSTEMS),
            weekday=rng.choice(WEEKDAYS),
            seats=rng.choice((10, 25, 40, 100)),
            k=rng.choice((20, 50, 100, 250)),
        )
        for s in picks
    )


def calls(
    everyone: list[Prospect], notes: int, planted: dict[str, int], seed: int
) -> Iterator[CallLog]:
    """Every prospect's notes, round after round (one call per prospect per round), as a
    pipeline fills over time; a planted prospect gets the budget freeze as note `planted`."""
    rng = random.Random(seed + 1)
    logged = datetime(2026, 11, 20, tzinfo=UTC)
    for n in range(notes):
        for i, who in enumerate(everyone):
            text = (
                PLANTED_NOTE.format(first=who.first)
                if planted.get(who.slug) == n
                else note_text(rng, who)
            )
            yield CallLog(
                call_id=call_id(i, n),
                workspace_id=WORKSPACE,
                prospect=who.name,
                company=who.company,
                rep_id=who.rep_id,
                call_date=TODAY - timedelta(days=7 * (notes - n) + i % 7),
                outcome=rng.choice(list(OUTCOMES)),
                note=text,
                transcript=None,
                logged_at=logged,
            )


def call_id(prospect_index: int, note_index: int) -> str:
    return f"call-{prospect_index:06d}-{note_index:03d}"
