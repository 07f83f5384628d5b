"""Benchmark (not a test): asking memory, against the brief on the same data.

    .venv/bin/python -m tests.benchmarks.bench_ask [--prospects 50] [--notes 20] [--runs 20]
        [--reasoning]

One rep with prospects x notes on the real Hindsight, Groq answering instantly (loopback),
measured side by side in one run (each round runs every step once, in turn): `/brief` for one
prospect (make_brief), a question naming that prospect and a question across the whole
pipeline (ask_memory); then through the real app (signed events, loopback Slack) a question in
the assistant pane: the time to its "thinking" status and to the posted answer. Prints
medians, ask / brief ratios (goals: one prospect <= 1x, the pipeline <= 2x) and the status
time (goal < 1 s).

The embedded server runs in chunks mode; with `--reasoning` it has a model (a loopback one that
answers at once), so the notes are filed as facts and a question goes to memory's reflect.
At 250,000 notes: `bench_memory_scale --ask`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from bot.ask.engine import ASK_TASK, ask_memory
from bot.brief.prepare import make_brief
from bot.infra.llm import LlmClient
from bot.infra.memory_setup import sales_bank_setup
from bot.services import Services
from memory.embedded import HindsightLlm
from memory.index import LocalIndex
from tests.benchmarks.bench_digest import BRIEF_ANSWER, REP, TODAY, medians_ms, note, retain_all
from tests.benchmarks.common import memory_at, run_with_hindsight
from tests.e2e.conftest import start_bot
from tests.support import ask_model
from tests.support.fake_groq import Behaviour, FakeGroq
from tests.support.fake_slack import TEAM_ID, FakeSlack
from tests.support.threaded_groq import ThreadedGroq

ONE = "what worries {name} about pricing, and what did we promise?"
PIPELINE = "which of my deals raised security or a budget freeze?"


def _answer(body: dict[str, Any]) -> Behaviour:
    if body["response_format"]["json_schema"]["name"] == "pre_call_brief":
        return "json", BRIEF_ANSWER
    return ask_model.honest(body)


def groq_for_the_bot() -> FakeGroq:
    """A loopback Groq that answers the brief and the ask tasks at once."""
    return FakeGroq(default=_answer)


async def brief_against_ask(
    services: Services, groq: FakeGroq, workspace: str, rep: str, name: str, runs: int
) -> dict[str, float]:
    """Median ms of the brief for `name`, a question naming `name` and a question across the
    rep's pipeline, in one run; prints them with their ratio to the brief, how many prospects
    the pipeline question cited and how many questions the bot's own Groq answered (none when
    memory's reflect answered them all)."""
    before = len(groq.requests)
    steps: dict[str, Callable[[], Awaitable[Any]]] = {
        "brief": lambda: make_brief(services, workspace, name, rep_id=rep),
        "ask one prospect": lambda: ask_memory(services, workspace, rep, ONE.format(name=name)),
        "ask the pipeline": lambda: ask_memory(services, workspace, rep, PIPELINE),
    }
    medians = await medians_ms(runs, steps)
    answer = await ask_memory(services, workspace, rep, PIPELINE)
    brief = medians["brief"]
    for label, ms in medians.items():
        print(f"{label:>18}: {ms:7.0f} ms  ({ms / brief:.2f}x the brief)")
    print(
        f"the pipeline question cited {len({s.prospect for s in answer.cited})} prospects"
        f"{f' (shown verbatim: {answer.fallback_reason})' if answer.fallback_reason else ''}"
    )
    asked = sum(
        1
        for body in groq.requests[before:]
        if body["response_format"]["json_schema"]["name"] == ASK_TASK.schema_name
    )
    print(f"questions the bot's Groq answered: {asked} of {2 * (runs + 1) + 1}")
    return medians


async def _pane_times(services: Services, question: str, runs: int) -> tuple[float, float]:
    """Median ms from a question in the assistant pane to its status and to its answer."""
    slack = FakeSlack()
    await slack.start()
    server, bot = await start_bot(slack, services)
    to_status, to_answer = [], []
    try:
        for n in range(runs + 1):
            thread = f"{300 + n}.0"
            event = {
                "type": "message",
                "channel": "D0PANE",
                "channel_type": "im",
                "user": REP,
                "text": question,
                "ts": f"{300 + n}.1",
                "thread_ts": thread,
            }
            slack.said("D0PANE", thread, {"ts": event["ts"], "text": question, "user": REP})
            statuses = len(slack.called("assistant.threads.setStatus"))
            answers = len(slack.called("chat.postMessage"))
            started = time.perf_counter()
            await bot.send.event(event)
            await slack.wait_for("assistant.threads.setStatus", statuses + 1, timeout=60)
            status_ms = (time.perf_counter() - started) * 1000
            await slack.wait_for("chat.postMessage", answers + 1, timeout=60)
            if n:  # the first is a warm-up
                to_status.append(status_ms)
                to_answer.append((time.perf_counter() - started) * 1000)
    finally:
        await server.close()
        await slack.close()
    return statistics.median(to_status), statistics.median(to_answer)


async def bench(url: str, workdir: Path, prospects: int, notes: int, runs: int) -> None:
    groq = groq_for_the_bot()
    await groq.start()
    memory = memory_at(url, f"bench-ask-{time.monotonic_ns()}", setup=sales_bank_setup())
    index = LocalIndex.open(f"sqlite:///{workdir / 'index.db'}")
    llm = LlmClient("gsk-bench", groq.base_url, "openai/gpt-oss-120b", 30.0, 0)
    morning = datetime.combine(TODAY, dt_time(9), UTC)
    services = Services(memory=memory, index=index, llm=llm, clock=lambda: morning)
    try:
        names = [f"Prospect {p:02d}" for p in range(prospects)]
        started = time.perf_counter()
        await retain_all(memory, index, [note(REP, n, k) for n in names for k in range(notes)])
        print(f"filled {prospects} x {notes} notes in {time.perf_counter() - started:.0f} s")
        print(f"memory {'reasons (reflect)' if await memory.reasons() else 'in chunks mode'}")
        name = names[prospects // 2]
        await brief_against_ask(services, groq, TEAM_ID, REP, name, runs)
        print(f"(of {prospects} prospects)")
        status_ms, answer_ms = await _pane_times(services, ONE.format(name=name), runs)
        print(f"assistant pane: status after {status_ms:.0f} ms, answer after {answer_ms:.0f} ms")
    finally:
        await llm.aclose()
        await memory.aclose()
        index.close()
        await groq.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prospects", type=int, default=50)
    parser.add_argument("--notes", type=int, default=20)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--reasoning", action="store_true", help="memory with a (loopback) model")
    args = parser.parse_args()
    model = ThreadedGroq()
    model.start()
    llm = HindsightLlm("gsk-bench", "openai/gpt-oss-20b", model.openai_base)
    try:
        run_with_hindsight(
            lambda url, workdir: bench(url, workdir, args.prospects, args.notes, args.runs),
            llm if args.reasoning else None,
        )
    finally:
        model.close()


if __name__ == "__main__":
    main()
