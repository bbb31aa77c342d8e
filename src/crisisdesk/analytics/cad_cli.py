"""`crisisdesk cad ...`: import CAD history into the analytics store, and summarise the store.

    crisisdesk cad import FILES... --profile PROFILE [--store DIR] [--call-map MAP]
                          [--engine duckdb|spark] [--replace] [--center ID --timezone ZONE]
                          [--lookup-dir DIR] [--memory-limit 1GB] [--no-progress] [--json]
    crisisdesk cad summary [--store DIR] [--json]

Exit codes: 0 everything read was stored (or was already stored); 1 some rows were rejected (the
good rows ARE imported; the rejects file lists the others with their reasons); 2 nothing was
imported: unknown or invalid profile, unreadable or missing file, a column the profile needs is
absent, missing linkage key, another import running. The default store is
`$CRISISDESK_DATA_DIR/analytics` (`./var/analytics`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from crisisdesk.analytics.importer import DEFAULT_MEMORY_LIMIT
from crisisdesk.analytics.keys import LinkageKeyError
from crisisdesk.analytics.profiles import ProfileError, load_profile
from crisisdesk.analytics.store import StoreError, default_store_dir, open_store

OK, REJECTS, FAILED = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="crisisdesk cad", description="CAD history for analytics.")
    sub = parser.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="import CAD export files (CSV or Parquet) through a profile")
    imp.add_argument("files", nargs="+", type=Path)
    imp.add_argument("--profile", required=True, help="generic, san_diego, milwaukee, toronto or a YAML path")
    imp.add_argument("--store", type=Path, default=None, help=f"store folder (default {default_store_dir()})")
    imp.add_argument(
        "--call-map", default=None, help="call-type map name or YAML path (default: stored / profile's)"
    )
    imp.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    imp.add_argument("--replace", action="store_true", help="a changed row replaces the stored version")
    imp.add_argument(
        "--center", default=None, help="center id (overrides the profile's; for the generic profile)"
    )
    imp.add_argument("--timezone", default=None, help="the center's IANA zone (overrides the profile's)")
    imp.add_argument("--lookup-dir", type=Path, default=None, help="folder of the profile's lookup files")
    imp.add_argument(
        "--memory-limit",
        default=DEFAULT_MEMORY_LIMIT,
        help=f"DuckDB memory limit (default {DEFAULT_MEMORY_LIMIT}; spills to disk beyond)",
    )
    imp.add_argument("--no-progress", action="store_true", help="no progress bar")
    imp.add_argument("--json", action="store_true", help="print the import report as JSON")
    summ = sub.add_parser("summary", help="what the store holds, per center")
    summ.add_argument("--store", type=Path, default=None)
    summ.add_argument("--json", action="store_true")
    return parser


def _import(args: argparse.Namespace) -> int:
    from crisisdesk.analytics.importer import CadImportError, import_files, reason_summary

    try:
        profile = load_profile(args.profile)
        if args.center or args.timezone:
            profile = profile.with_center(args.center, args.timezone)
        kwargs: dict[str, Any] = {
            "replace": args.replace,
            "lookup_dir": args.lookup_dir,
            "progress": False if args.no_progress else None,
        }
        if args.engine == "spark":
            from crisisdesk.analytics import spark as sp

            report = sp.import_files(
                sp.spark_session(), args.files, profile, args.store, args.call_map, **kwargs
            )
        else:
            report = import_files(
                args.files, profile, args.store, args.call_map, memory_limit=args.memory_limit, **kwargs
            )
    except (ProfileError, CadImportError, StoreError, LinkageKeyError) as exc:
        print(f"crisisdesk cad import: {exc}", file=sys.stderr)
        return FAILED
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    else:
        print(
            f"{report.center}: read {report.rows_read:,} rows from {len(report.files)} file(s); stored "
            f"{report.rows_stored:,} new, {report.rows_replaced:,} replaced, {report.already_stored:,} already "
            f"stored, {report.duplicates_in_batch:,} duplicate copies; rejected {report.rows_rejected:,} "
            f"({reason_summary(report.rejected_by_reason)})"
        )
        if report.rejects_path:
            print(f"rejects: {report.rejects_path}")
        classes = ", ".join(f"{k} {v:,}" for k, v in sorted(report.by_class.items()))
        print(f"{report.center} now holds {report.center_rows:,} calls: {classes}")
        print(f"call map: {report.callmap or 'none'}; import id {report.import_id}; engine {report.engine}")
        for note in report.notes:
            print(f"note: {note}")
    return REJECTS if report.rows_rejected else OK


def _summary(args: argparse.Namespace) -> int:
    try:
        store = open_store(args.store)
    except StoreError as exc:
        print(f"crisisdesk cad summary: {exc}", file=sys.stderr)
        return FAILED
    con = store.connect()
    centers = store.centers()
    rows = con.execute(
        "SELECT center, count(*), sum(CASE WHEN eligible THEN 1 ELSE 0 END), min(local_date), max(local_date), "
        "min(CAST(local_year AS INTEGER) * 100 + local_month), max(CAST(local_year AS INTEGER) * 100 + local_month), "
        "count(address_key), count(caller_key) FROM calls GROUP BY center ORDER BY center"
    ).fetchall()
    classes = con.execute(
        "SELECT center, bh_class, count(*) FROM calls GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    imports = store.imports()
    out: dict[str, Any] = {"store": str(store.root), "centers": {}}
    for c, n, elig, d0, d1, m0, m1, addr, caller in rows:
        info = centers.get(c)
        mine = [i for i in imports if i.get("center") == c]
        out["centers"][c] = {
            "calls": n,
            "eligible": int(elig or 0),
            "by_class": {str(k): v for cc, k, v in classes if cc == c},
            "first_date": str(d0) if d0 else None,
            "last_date": str(d1) if d1 else None,
            "first_month": f"{m0 // 100}-{m0 % 100:02d}",
            "last_month": f"{m1 // 100}-{m1 % 100:02d}",
            "with_address_key": addr,
            "with_caller_key": caller,
            "timezone": info.timezone if info else None,
            "time_precision": "hour" if info and info.hour_only else "instant",
            "callmap": info.callmap if info else None,
            "imports": len(mine),
            "rows_rejected": sum(int(i.get("rows_rejected", 0)) for i in mine),
        }
    con.close()
    if args.json:
        print(json.dumps(out, indent=2))
        return OK
    print(f"store {out['store']}")
    if not out["centers"]:
        print("(empty)")
    for c, s in out["centers"].items():
        span = (
            f"{s['first_date']} .. {s['last_date']}"
            if s["first_date"]
            else f"{s['first_month']} .. {s['last_month']}"
        )
        by_class = ", ".join(f"{k} {v:,}" for k, v in s["by_class"].items())
        print(
            f"{c}: {s['calls']:,} calls ({span}, {s['timezone']}, {s['time_precision']} precision); "
            f"eligible {s['eligible']:,}; {by_class}; call map {s['callmap'] or 'none'}; "
            f"address keys {s['with_address_key']:,}; caller keys {s['with_caller_key']:,}; "
            f"{s['imports']} import(s), {s['rows_rejected']:,} rows rejected over them"
        )
    return OK


def main(argv: list[str]) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, usage errors 2
        return int(exc.code or 0)
    if args.command == "import":
        return _import(args)
    return _summary(args)
