"""The ``escalator`` command line (SPEC §2)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.errors import ConfigError, UserError
from bot.settings import Settings, load_settings
from storage.unavailable import DatabaseUnavailable

if TYPE_CHECKING:
    from bot.slack.i18n import Translator

log = logging.getLogger("escalator")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="escalator", description="Support escalation bot for Slack."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = sub.add_parser("serve", help="HTTP mode: Slack posts to POST /slack/events")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=_port, default=3000)
    socket = sub.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN)")
    socket.add_argument("--host", default="127.0.0.1", help="of GET /healthz and /metrics")
    socket.add_argument("--port", type=_port, default=3000)
    sandbox = sub.add_parser("sandbox", help="a local stand-in workspace in the browser")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=3000)
    sub.add_parser("migrate", help="bring the database schema up to date")
    check = sub.add_parser("check-config", help="validate the config and print the policy")
    check.add_argument("file", nargs="?")
    deadlines = sub.add_parser("deadlines", help="print a ticket's deadlines as JSON")
    deadlines.add_argument("--severity", required=True, choices=["A", "B", "C", "D"])
    deadlines.add_argument("--reported", required=True, help="local time, ISO 8601")
    deadlines.add_argument("--out-of-warranty", action="store_true")
    deadlines.add_argument("--config")
    manifest = sub.add_parser("manifest", help="print the Slack app manifest (YAML)")
    manifest.add_argument("--url", default="https://escalator.example.com")
    manifest.add_argument("--socket-mode", action="store_true")
    backup = sub.add_parser("backup", help="a consistent copy of the database")
    backup.add_argument("path")
    report = sub.add_parser("report", help="write the month's review (PNG chart, CSV) to a folder")
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--out", required=True, help="the folder to write to")
    kb = sub.add_parser("kb", help="knowledge-base articles as Markdown files")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="import|export")
    kb_sub.add_parser("import", help="load the articles of DIR (*.md)").add_argument("dir")
    kb_sub.add_parser("export", help="write every article to DIR").add_argument("dir")
    return parser


def _port(text: str) -> int:
    port = int(text) if text.strip().isdecimal() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0 to 65535)")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings: Settings | None = None
    try:
        settings = load_settings(os.environ)
        return _run(args, settings)
    except ConfigError as exc:  # a setting (SPEC §2: check-config answers any error with 1)
        print(f"escalator: {exc.key}: {exc.problem}", file=sys.stderr)
        return 1 if args.command == "check-config" else 2
    except DatabaseUnavailable as exc:  # a settings error found when first connecting
        print(f"escalator: DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    except UserError as exc:
        tr = _reader(settings, getattr(args, "config", None))  # deadlines --config FILE
        print(f"escalator: {tr.say(exc.message)}", file=sys.stderr)
        return 1
    except OSError as exc:  # a folder that is not there, a port in use: one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"escalator: {where}{exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _reader(settings: Settings | None, config_path: str | None = None) -> Translator:
    """The configured language (SPEC §3 ``language``) for what the command tells a person:
    its outcome and a bad input's message. What SPEC fixes stays as it is (names of
    settings and config keys, the manifest, ``deadlines``' JSON, ``check-config``'s
    listing of the config); so does a config that cannot be read (its error says why)."""
    from bot.config import load_config
    from bot.slack.i18n import Language, translator

    if settings is None:
        return translator(Language.EN)
    try:
        config = load_config(config_path or settings.config_path)
    except ConfigError:
        return translator(Language.EN)
    return translator(config.language, config.tz)


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot import cli_commands as commands

    command: str = args.command
    if command == "manifest":
        from bot.slack.manifest import manifest

        sys.stdout.write(manifest(args.url, socket_mode=args.socket_mode))
        return 0
    if command == "check-config":
        try:
            named_by = "FILE" if args.file else "ESCALATOR_CONFIG"
            return commands.check_config(args.file or settings.config_path, named_by=named_by)
        except ConfigError as exc:  # SPEC §2: check-config answers an error with exit 1
            print(f"escalator: {exc.key}: {exc.problem}", file=sys.stderr)
            return 1
    if command == "deadlines":
        result = commands.deadlines(
            config_path=args.config or settings.config_path,
            severity=args.severity,
            reported=args.reported,
            out_of_warranty=args.out_of_warranty,
            named_by="--config" if args.config else "ESCALATOR_CONFIG",
        )
        print(json.dumps(result))
        return 0
    if command == "migrate":
        asyncio.run(commands.migrate(settings))
        tr = _reader(settings)
        print("escalator: " + tr("The database is up to date."))
        return 0
    if command == "backup":
        commands.backup(settings, args.path)
        tr = _reader(settings)
        print("escalator: " + tr("Backup written to %(path)s.", path=args.path))
        return 0
    if command == "report":
        tr = _reader(settings)
        for path in commands.report(settings, args.month, args.out):
            print("escalator: " + tr("Wrote %(path)s.", path=path))
        return 0
    if command == "kb":
        from pathlib import Path

        from bot import cli_kb

        tr = _reader(settings)
        if args.kb_command == "import":
            articles = cli_kb.read_articles(Path(args.dir), tr)
            lines = asyncio.run(cli_kb.import_articles(settings, articles))
            done = tr.plural("%(n)d article imported.", "%(n)d articles imported.", len(lines))
            print("\n".join([*lines, f"escalator: {done}"]))
        else:
            files = asyncio.run(cli_kb.export_articles(settings))
            names = cli_kb.write_articles(Path(args.dir), files)
            done = tr.plural(
                "%(n)d article written to %(path)s.",
                "%(n)d articles written to %(path)s.",
                len(names),
                path=args.dir,
            )
            print(f"escalator: {done}")
        return 0
    if command == "serve":
        asyncio.run(commands.serve(settings, args.host, args.port))
        return 0
    if command == "socket":
        asyncio.run(commands.socket(settings, args.host, args.port))
        return 0
    if command == "sandbox":
        from bot.sandbox.run import run_sandbox

        asyncio.run(run_sandbox(settings, args.host, args.port))
        return 0
    raise AssertionError(command)


if __name__ == "__main__":
    raise SystemExit(main())
