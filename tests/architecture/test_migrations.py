"""Models and migrations agree, and the generated migrations are stable from run to run."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
@pytest.mark.parametrize("run", [1, 2], ids=["first", "second"])
def test_no_missing_migrations(run: int) -> None:
    out = io.StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        pytest.fail(f"models changed without a migration (run {run}):\n{out.getvalue()} (exit {exc.code})")
