"""Shared fixtures for analytics tests: the test linkage key, CAD slices, small call maps, Spark.

`spark` is one SparkSession for the whole test run (local[2], 2 shuffle partitions, UI off, UTC):
starting Spark costs seconds, so every Spark test shares it. Tests that use it skip when no Java
runtime is installed.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crisisdesk.analytics.callmap import CallMap, parse_call_map
from crisisdesk.analytics.keys import LINKAGE_KEY_ENV

CAD_DATA = Path(__file__).resolve().parents[1] / "data" / "cad"
TEST_KEY = b"crisisdesk-test-linkage-key-not-a-secret"


@pytest.fixture(autouse=True)
def _linkage_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every analytics test runs with the documented test key (never a real one)."""
    monkeypatch.setenv(LINKAGE_KEY_ENV, TEST_KEY.decode())


@pytest.fixture
def cad_data() -> Path:
    return CAD_DATA


def make_call_map(center: str, rows: dict[str, tuple[str, str]], version: str = "test.1") -> CallMap:
    """A call map from {code: (apco, class)}."""
    return parse_call_map(
        {
            "center": center,
            "version": version,
            "call_types": [{"code": c, "apco": a, "class": k} for c, (a, k) in rows.items()],
        }
    )


@pytest.fixture
def sd_call_map() -> CallMap:
    """A few San Diego codes (from pd_cfs_calltypes_datasd.csv), classed by hand for the tests."""
    return make_call_map(
        "san_diego",
        {
            "5150": ("EDP", "in_scope"),  # MENTAL CASE (11 rows in the slice)
            "CW": ("WELFARE", "conditional"),  # CHECK THE WELFARE (10)
            "415": ("DISTURB", "conditional"),  # DISTURBING PEACE (18)
            "5150V": ("EDP", "emergency_only"),  # MENTAL CASE-VIOLENT OR URGENT (2)
            "SELENF": ("TRAFFIC", "not_in_scope"),  # SELECTIVE ENFORCEMENT (23)
        },
    )


# Tiny data: a JVM that compiles quickly (C1 only) and no adaptive re-planning start faster than they lose.
SPARK_TEST_CONF = {
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss4m",
    "spark.sql.adaptive.enabled": "false",
    "spark.default.parallelism": "2",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    if shutil.which("java") is None:
        pytest.skip("no Java runtime: Spark tests need Java 17 or 21")
    from crisisdesk.analytics.spark import spark_session

    session = spark_session(
        master="local[2]", app="crisisdesk-tests", shuffle_partitions=2, conf=SPARK_TEST_CONF
    )
    yield session
    session.stop()
