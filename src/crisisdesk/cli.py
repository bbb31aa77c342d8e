"""The `crisisdesk` command.

`crisisdesk triage --batch FILE` runs protocol test cards without touching a database;
`crisisdesk permissions_doc` prints the permission matrix (docs/permissions.md). `crisisdesk
demo` prepares and serves the demo. Any other sub-command is Django's (`crisisdesk migrate`,
`crisisdesk createsuperuser`, ...), so there is no separate manage.py to remember.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

# `crisisdesk cad import ...`, `crisisdesk plan ...`, `crisisdesk callmap ...`: analytics entry points.
ANALYTICS_COMMANDS = {
    "cad": "crisisdesk.analytics.cad_cli:main",
    "plan": "crisisdesk.analytics.plan_cli:main",
    "callmap": "crisisdesk.analytics.callmap_cli:main",
}


def _triage(argv: list[str]) -> int:
    from crisisdesk.cards import run_cards
    from crisisdesk.domain.protocol import ProtocolError
    from crisisdesk.protocols import DEFAULT_PROTOCOL, load_protocol

    parser = argparse.ArgumentParser(prog="crisisdesk triage", description="Run protocol test cards.")
    parser.add_argument("--batch", required=True, help="JSON-lines file of cards, or - for standard input")
    parser.add_argument("--protocol", default=str(DEFAULT_PROTOCOL), help="protocol YAML (default: MECC)")
    parser.add_argument(
        "--check",
        action="store_true",
        help="compare each card's 'expect' with the result; exit 1 on mismatch",
    )
    args = parser.parse_args(argv)
    try:
        protocol = load_protocol(args.protocol)
    except (OSError, ProtocolError, ValueError) as exc:
        print(f"crisisdesk triage: {exc}", file=sys.stderr)
        return 2
    try:
        fh = sys.stdin if args.batch == "-" else open(args.batch, encoding="utf-8")  # noqa: SIM115
    except OSError as exc:
        print(f"crisisdesk triage: cannot read the cards: {exc}", file=sys.stderr)
        return 2
    errors = mismatches = total = 0
    with fh:
        for result in run_cards(fh, protocol, check=args.check):
            total += 1
            print(json.dumps(result.line, ensure_ascii=False))
            if result.error:
                errors += 1
            if result.mismatch:
                mismatches += 1
                print(f"MISMATCH {result.line['id']}: {result.mismatch}", file=sys.stderr)
    if args.check or errors:
        print(
            f"{total} cards, {errors} unreadable, {mismatches} not as expected (protocol {protocol.version})",
            file=sys.stderr,
        )
    return 1 if errors or mismatches else 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "triage":
        return _triage(argv[1:])
    if argv and argv[0] == "permissions_doc":
        # docs/permissions.md is this output; tests/architecture checks that they agree.
        from crisisdesk.domain.permissions import render_markdown

        sys.stdout.write(render_markdown())
        return 0
    if argv and argv[0] in ANALYTICS_COMMANDS:
        # Analytics commands need no database and no Django settings.
        from importlib import import_module

        module_name, func = ANALYTICS_COMMANDS[argv[0]].split(":")
        command: Any = getattr(import_module(module_name), func)
        return int(command(argv[1:]))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisdesk.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line([str(Path(sys.argv[0]).name or "crisisdesk"), *argv])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
