"""The command line: `python -m bot` (serve), `check`, `digest`, `backup`, `restore`.

Only what every command needs is imported up front: `--help`, `--version` and `check` answer
without loading the bot itself, and `python -m bot` reports a refused token or a busy port
before it loads and starts anything slow.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from bot.config import Settings, SettingsError, load_settings, read_environment
from bot.infra import preflight
from bot.infra.preflight import PortInUse
from bot.infra.slack_checks import SlackStartupError

logger = logging.getLogger("bot")

ENV_FILE = ".env"

DESCRIPTION = """\
SalesMemory for Slack: reps log their sales calls in Slack; the bot keeps them in memory and
prepares a brief before the next call.

Settings come from the environment and from a .env file in the current directory (KEY=value
lines; the environment wins). SLACK_BOT_TOKEN is always needed; then one of two modes:
  Socket Mode  SLACK_APP_TOKEN=xapp-… set: the bot connects out to Slack; no public URL needed.
  HTTP mode    SLACK_SIGNING_SECRET set, no app token: Slack posts to https://<host>/slack/events,
               served on PORT (3000 by default).
GROQ_API_KEY adds summaries; HINDSIGHT_URL points at an external memory server (unset: the bot
starts its own in SALESMEMORY_HOME, ~/.salesmemory by default).

Without a command it runs until SIGTERM or Ctrl-C, after checking the Slack tokens and the
port. Exit codes: 0 stopped normally, 1 a check or the memory server failed, 2 bad settings,
a token Slack refuses, or a busy port."""

CHECK_HELP = """\
Check the settings without starting the bot or its memory server, in a few seconds: the
Slack bot token (auth.test), the app token (Socket Mode), the signing secret (HTTP mode),
the Groq key and models, an external memory server (HINDSIGHT_URL and its key), the
databases, and the port. One line per check: ok, FAIL (with what to do), warn or info.
Exit code 0 when nothing failed, 1 when a check failed, 2 when the settings are malformed."""

DIGEST_HELP = """\
Send one rep their weekly digest now, in their DMs, as the scheduler would on Monday.
A rep's Slack user id: in Slack, open their profile, click ⋮ (More), then "Copy member ID"
(it starts with U or W). Uses the running bot's memory server if there is one."""


BACKUP_HELP = """\
Copy the local index, the job store and the embedded memory server's database into DIR (new
or empty), consistently, while the bot runs or not. What lives on servers of their own
(SALESMEMORY_DB_URL on PostgreSQL, HINDSIGHT_URL) is named as not included."""

RESTORE_HELP = """\
Restore a backup made by `backup` into an empty SALESMEMORY_HOME, then start the bot. A home
that already holds data is never written to."""


def _version() -> str:
    try:
        return version("salesmemory-slack")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="python -m bot",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"salesmemory-slack {_version()}")
    commands = top.add_subparsers(dest="command", title="commands", metavar="COMMAND")
    commands.add_parser(
        "check",
        help="check the settings, tokens and servers without starting the bot",
        description=CHECK_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    digest = commands.add_parser(
        "digest",
        help="send one rep's weekly digest now",
        description=DIGEST_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    digest.add_argument(
        "--user", required=True, metavar="U…", help="the rep's Slack member ID (U… or W…)"
    )
    backup = commands.add_parser(
        "backup",
        help="back up the home's databases, bot running or not",
        description=BACKUP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    backup.add_argument("dir", type=Path, help="a new or empty folder for the backup")
    restore = commands.add_parser(
        "restore",
        help="restore a backup into an empty home",
        description=RESTORE_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    restore.add_argument("dir", type=Path, help="a folder made by `backup`")
    return top


async def check(settings: Settings) -> int:
    """`python -m bot check`: every check's line; 0 only when none failed."""
    found = [preflight.settings_finding(settings, Path(ENV_FILE).absolute())]
    found += await preflight.run_checks(settings)
    print("\n".join(preflight.lines(found)))
    return 1 if any(finding.status is preflight.Status.FAIL for finding in found) else 0


async def run(settings: Settings) -> int:
    """Serve until SIGINT or SIGTERM: the fast checks first, then the bot."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # A refused token or a busy port is one line, before the memory server is started.
    if not await preflight.before_serving(settings, stop):
        return 0
    from bot.serve import serve
    from memory.embedded import EmbeddedMemoryError

    try:
        await serve(settings, stop)
    except EmbeddedMemoryError as error:
        logger.error("The embedded memory server could not start: %s", error)
        return 1
    return 0


async def digest(settings: Settings, rep_id: str) -> int:
    from bot.serve import digest_now
    from memory.embedded import EmbeddedMemoryError

    try:
        return await digest_now(settings, rep_id)
    except EmbeddedMemoryError as error:
        logger.error("The embedded memory server could not start: %s", error)
        return 1


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings(read_environment(ENV_FILE))
    except SettingsError as error:
        if args.command == "check":
            print("\n".join(preflight.lines(preflight.problem_findings(error.problems))))
        else:
            for problem in error.problems:
                print(f"config error: {problem}", file=sys.stderr)
        return 2
    if args.command == "check":
        # The lines are the report: a library's own warnings would only interleave with them.
        logging.basicConfig(level=logging.ERROR)
        return asyncio.run(check(settings))
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command in ("backup", "restore"):
        from bot.infra.backup import backup_command, restore_command

        command = backup_command if args.command == "backup" else restore_command
        return command(settings, args.dir)
    try:
        if args.command == "digest":
            return asyncio.run(digest(settings, args.user))
        return asyncio.run(run(settings))
    except SlackStartupError as error:
        print(f"slack error: {error}", file=sys.stderr)
        return 2
    except PortInUse as error:
        print(f"startup error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
