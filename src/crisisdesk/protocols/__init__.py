"""Protocol files shipped with Crisis Desk (data, not code) and the loader that reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crisisdesk.domain.protocol import Protocol, parse_protocol

PROTOCOL_DIR = Path(__file__).resolve().parent
DEFAULT_PROTOCOL = PROTOCOL_DIR / "mecc.yaml"
DEFAULT_CARDS = PROTOCOL_DIR / "cards" / "mecc.jsonl"


def read_protocol_document(path: Path | str = DEFAULT_PROTOCOL) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        try:
            doc = yaml.safe_load(fh)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: a protocol file must hold a mapping at the top level")
    return doc


def load_protocol(path: Path | str = DEFAULT_PROTOCOL) -> Protocol:
    return parse_protocol(read_protocol_document(path))
