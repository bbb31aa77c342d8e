"""Typed settings read from the environment by one factory; nothing connects at import.

Environment variables (all optional for the demo):
- DATABASE_URL: sqlite:///path or postgres://user@host:port/db (default: SQLite in ./var)
- CRISISDESK_SECRET_KEY: required when CRISISDESK_DEBUG is off
- CRISISDESK_DEBUG: 1 for development (the demo sets it)
- CRISISDESK_ALLOWED_HOSTS: comma-separated host names
- CRISISDESK_LINKAGE_KEY: secret for the keyed hashes that link people across calls in analytics
  (phone numbers are never used raw as keys); required when CRISISDESK_DEBUG is off. Changing it
  breaks linkage with earlier exports, so keep it with the other secrets.
- CRISISDESK_HTTPS: 1 when served over HTTPS (default: on unless debug): secure cookies, HSTS,
  redirect to HTTPS. Turn it off only for loopback tools such as `make bench`.
- CRISISDESK_AUDIT_KEY: secret for the keyed hash that chains audit rows (`crisisdesk audit verify`
  detects an edited, deleted or inserted row); required when CRISISDESK_DEBUG is off. Keep it off the
  database host: whoever holds it can rewrite the chain.
- CRISISDESK_DIRECTORY_STALE_DAYS: a directory listing not verified for this many days is flagged
  as stale in search results and on the maintenance list (default 180)
- CRISISDESK_EXPORT_DATE_GRAIN: year, quarter, month (default) or week: the period evaluation exports
  and breakdowns use. Only "year" is HIPAA Safe Harbor; the finer grains need Expert Determination
  or a limited data set (docs/deidentification.md)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
DEFAULT_DATA_DIR = Path.cwd() / "var"


class ConfigError(RuntimeError):
    pass


@dataclass(frozen=True)
class Config:
    database_url: str
    secret_key: str
    debug: bool
    allowed_hosts: tuple[str, ...]
    data_dir: Path
    https: bool
    linkage_key: bytes
    directory_stale_days: int = 180
    export_date_grain: str = "month"
    audit_key: bytes = b"insecure-development-audit-key"


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


EXPORT_DATE_GRAINS = ("year", "quarter", "month", "week")  # = analytics.safe_harbor.GRAINS (tested)


def _grain() -> str:
    grain = (os.environ.get("CRISISDESK_EXPORT_DATE_GRAIN") or "month").strip().lower()
    if grain not in EXPORT_DATE_GRAINS:
        raise ConfigError(
            f"CRISISDESK_EXPORT_DATE_GRAIN must be one of {', '.join(EXPORT_DATE_GRAINS)}, not {grain!r}"
        )
    return grain


def load_config() -> Config:
    data_dir = Path(os.environ.get("CRISISDESK_DATA_DIR", DEFAULT_DATA_DIR))
    debug = _flag("CRISISDESK_DEBUG", default=False)
    secret = os.environ.get("CRISISDESK_SECRET_KEY", "")
    if not secret:
        if not debug:
            raise ConfigError("CRISISDESK_SECRET_KEY must be set when CRISISDESK_DEBUG is off")
        secret = "insecure-development-key-" + "x" * 40  # noqa: S105 - only with DEBUG on
    linkage = os.environ.get("CRISISDESK_LINKAGE_KEY", "")
    if not linkage:
        if not debug:
            raise ConfigError("CRISISDESK_LINKAGE_KEY must be set when CRISISDESK_DEBUG is off")
        linkage = "insecure-development-linkage-key"
    audit_key = os.environ.get("CRISISDESK_AUDIT_KEY", "")
    if not audit_key:
        if not debug:
            raise ConfigError("CRISISDESK_AUDIT_KEY must be set when CRISISDESK_DEBUG is off")
        audit_key = "insecure-development-audit-key"
    hosts = tuple(h.strip() for h in os.environ.get("CRISISDESK_ALLOWED_HOSTS", "").split(",") if h.strip())
    if debug and not hosts:
        hosts = ("127.0.0.1", "localhost", "[::1]")
    return Config(
        database_url=os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'crisisdesk.sqlite3'}",
        secret_key=secret,
        debug=debug,
        allowed_hosts=hosts,
        data_dir=data_dir,
        https=_flag("CRISISDESK_HTTPS", default=not debug),
        linkage_key=linkage.encode(),
        audit_key=audit_key.encode(),
        directory_stale_days=int(os.environ.get("CRISISDESK_DIRECTORY_STALE_DAYS") or 180),
        export_date_grain=_grain(),
    )
