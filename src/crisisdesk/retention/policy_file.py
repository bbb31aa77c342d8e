"""The policy file shipped with the code: the first version, installed by a data migration."""

from __future__ import annotations

from pathlib import Path

import yaml

from crisisdesk.domain.retention import RetentionPolicy, parse_policy

DEFAULT_POLICY_FILE = Path(__file__).with_name("default_policy.yaml")


def load_policy_file(path: Path = DEFAULT_POLICY_FILE) -> RetentionPolicy:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path.name}: a retention policy is a mapping at the top level")
    return parse_policy(doc)
