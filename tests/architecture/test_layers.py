"""Architecture rules as tests (DESIGN.md section 2): the layers depend one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "crisisdesk"
FORBIDDEN_IN_DOMAIN = ("django", "ninja", "duckdb", "pyspark", "psycopg", "requests", "httpx")
# ORM write methods that only services (and migrations) may call.
WRITE_METHODS = {
    "create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
}
WRITERS_ALLOWED = {"services.py", "protocols.py"}  # calls/protocols.py is the protocol write path


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _domain_files() -> list[Path]:
    return sorted((SRC / "domain").rglob("*.py"))


@pytest.mark.parametrize("path", _domain_files(), ids=lambda p: p.name)
def test_domain_imports_no_framework_or_io(path: Path) -> None:
    bad = {m for m in _imports(path) if m.split(".")[0] in FORBIDDEN_IN_DOMAIN}
    assert not bad, f"{path.name} imports {sorted(bad)}: the domain layer stays pure"


def _analytics_files() -> list[Path]:
    return sorted((SRC / "analytics").rglob("*.py"))


@pytest.mark.parametrize("path", _analytics_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_analytics_imports_no_django(path: Path) -> None:
    """Analytics runs without a web app or database (DESIGN.md section 2): domain only."""
    bad = {m for m in _imports(path) if m.split(".")[0] in {"django", "ninja"}}
    bad |= {
        m
        for m in _imports(path)
        if m.startswith("crisisdesk.") and m.split(".")[1] not in {"domain", "analytics", "protocols"}
    }
    assert not bad, f"{path.name} imports {sorted(bad)}: analytics depends on the domain only"


def _app_modules() -> list[Path]:
    return sorted(
        p
        for p in SRC.rglob("*.py")
        if "migrations" not in p.parts
        and "domain" not in p.parts
        and "services" not in p.parts  # a services package: each module is part of the write path
        and p.name not in WRITERS_ALLOWED
    )


def _orm_writes(path: Path) -> list[str]:
    """Calls like X.objects.create(...) / qs.filter(...).update(...) / obj.save() outside services."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        name = node.func.attr
        chain = ast.unparse(node.func.value)
        if (
            name in WRITE_METHODS
            and ".objects" in chain
            or name == "save"
            and not chain.startswith(("super", "form"))
        ):
            found.append(f"line {node.lineno}: {ast.unparse(node.func)}")
    return found


@pytest.mark.parametrize("path", _app_modules(), ids=lambda p: str(p.relative_to(SRC)))
def test_no_writes_outside_services(path: Path) -> None:
    # Management commands that only seed data go through services too; admin goes through services.
    assert not _orm_writes(path), f"{path.relative_to(SRC)} writes with the ORM: {_orm_writes(path)}"


def test_the_rule_catches_a_write(tmp_path: Path) -> None:
    sample = tmp_path / "views.py"
    sample.write_text("def v():\n    Call.objects.create(x=1)\n    call.save()\n", encoding="utf-8")
    assert len(_orm_writes(sample)) == 2
