"""stack_launcher.seed: same logical data in both layouts, deterministic, fast, safe to rerun."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from pwdlib import PasswordHash
from stack_launcher.infra import Infra
from stack_launcher.seed import (
    SEED_PASSWORD,
    Layout,
    SeedError,
    SeedSummary,
    get_scale,
    logical_digest,
    seed,
)
from stack_launcher.seed.events import event_chunks
from stack_launcher.seed.people import generate_users

REPO = Path(__file__).resolve().parents[3]
REFERENCE_TIME = datetime(2026, 1, 15, tzinfo=UTC)
TINY = get_scale("tiny")
USER_TABLES = {
    "after": ("identity.accounts", "users.profiles", "users.prefs"),
    "before": ("users", "profiles", "prefs"),
}
EVENTS = {"after": "users.events", "before": "events"}
REPORTS = {"after": "jobs.reports", "before": "reports"}
ACCOUNTS = {"after": "identity.accounts", "before": "users"}
NEW_ACCOUNT = {
    "after": "INSERT INTO identity.accounts (email, password_hash) VALUES ('new@x.test', 'h') "
    "RETURNING id",
    "before": "INSERT INTO users (email, password_hash, display_name) "
    "VALUES ('new@x.test', 'h', 'New') RETURNING id",
}
INDEXES_SQL = "SELECT indexdef FROM pg_indexes WHERE schemaname <> 'pg_catalog' ORDER BY 1"


@dataclass(frozen=True)
class Seeded:
    dsn: str
    layout: Layout
    summary: SeedSummary


class Databases:
    """Fresh databases cloned from one migrated template per layout (cheaper than migrating)."""

    def __init__(self, infra: Infra) -> None:
        self._infra = infra
        self.templates: dict[Layout, str] = {}

    def prepare_templates(self) -> None:
        after = self._infra.create_database("seedtest_tmpl_after")
        subprocess.run(
            [
                sys.executable,
                "-m",
                "service_common.migrate",
                "identity_service",
                "user_service",
                "jobs_service",
                "--url",
                after,
            ],  # fmt: skip
            check=True,
            capture_output=True,
        )
        self.templates["after"] = "seedtest_tmpl_after"
        self._infra.create_database("seedtest_tmpl_before")
        self.templates["before"] = "seedtest_tmpl_before"

    async def load_before_schema(self) -> None:
        connection = await asyncpg.connect(self._infra.database_dsn("seedtest_tmpl_before"))
        try:
            await connection.execute((REPO / "before" / "schema.sql").read_text())
        finally:
            await connection.close()

    async def create(self, name: str, layout: Layout | None) -> str:
        """Create database `name` with the layout's schema (or none); return its DSN."""
        template = f" TEMPLATE {self.templates[layout]}" if layout else ""
        connection = await asyncpg.connect(self._infra.admin_dsn)
        try:
            await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            await connection.execute(f"CREATE DATABASE {name}{template}")
        finally:
            await connection.close()
        return self._infra.database_dsn(name)


@pytest.fixture(scope="module")
async def databases(embedded_infra: Infra) -> Databases:
    databases = Databases(embedded_infra)
    databases.prepare_templates()
    await databases.load_before_schema()
    return databases


@pytest.fixture(scope="module")
async def seeded(databases: Databases) -> AsyncIterator[dict[str, Seeded]]:
    """Seed tiny data: both layouts with seed 42, the after layout again with 42 and with 7."""
    runs: dict[str, Seeded] = {}
    plan: tuple[tuple[str, Layout, int], ...] = (
        ("after", "after", 42),
        ("before", "before", 42),
        ("after_again", "after", 42),
        ("after_other_seed", "after", 7),
    )
    for key, layout, seed_value in plan:
        dsn = await databases.create(f"seedtest_{key}", layout)
        summary = await seed(
            dsn, layout=layout, scale="tiny", seed=seed_value, reference_time=REFERENCE_TIME
        )
        runs[key] = Seeded(dsn, layout, summary)
    yield runs


async def fetchval(dsn: str, query: str) -> object:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetchval(query)
    finally:
        await connection.close()


async def test_both_layouts_hold_the_same_logical_data(seeded: dict[str, Seeded]) -> None:
    after = await logical_digest(seeded["after"].dsn, "after")
    before = await logical_digest(seeded["before"].dsn, "before")
    assert after == before


async def test_same_seed_same_digest_other_seed_differs(seeded: dict[str, Seeded]) -> None:
    first = await logical_digest(seeded["after"].dsn, "after")
    assert await logical_digest(seeded["after_again"].dsn, "after") == first
    assert await logical_digest(seeded["after_other_seed"].dsn, "after") != first


@pytest.mark.parametrize("layout", ["after", "before"])
async def test_counts_match_the_scale(seeded: dict[str, Seeded], layout: Layout) -> None:
    run = seeded[layout]
    expected = dict.fromkeys(USER_TABLES[layout], TINY.users)
    expected |= {EVENTS[layout]: TINY.events, REPORTS[layout]: TINY.reports}
    stored = {table: await fetchval(run.dsn, f"SELECT count(*) FROM {table}") for table in expected}
    assert stored == expected
    assert list(run.summary.counts.values()) == list(expected.values())
    assert run.summary.reference_time == REFERENCE_TIME


@pytest.mark.parametrize("layout", ["after", "before"])
async def test_seeded_users_log_in_with_the_seed_password(
    seeded: dict[str, Seeded], layout: Layout
) -> None:
    dsn = seeded[layout].dsn
    table = ACCOUNTS[layout]
    assert await fetchval(dsn, f"SELECT count(DISTINCT password_hash) FROM {table}") == 1
    stored = await fetchval(dsn, f"SELECT password_hash FROM {table} WHERE id = 7")
    assert isinstance(stored, str)
    assert PasswordHash.recommended().verify(SEED_PASSWORD, stored)
    email = await fetchval(dsn, f"SELECT email FROM {table} WHERE id = 7")
    assert email == "user7@example.com"


@pytest.mark.parametrize("layout", ["after", "before"])
async def test_new_rows_get_ids_after_the_seeded_ones(
    seeded: dict[str, Seeded], layout: Layout
) -> None:
    connection = await asyncpg.connect(seeded[layout].dsn)
    try:
        transaction = connection.transaction()
        await transaction.start()
        account_id = await connection.fetchval(NEW_ACCOUNT[layout])
        event_id = await connection.fetchval(
            f"INSERT INTO {EVENTS[layout]} (user_id, actor_id, kind) VALUES (1, 1, 'login') "
            "RETURNING id"
        )
        await transaction.rollback()
    finally:
        await connection.close()
    assert account_id > TINY.users
    assert event_id > TINY.events


async def test_seeding_leaves_the_schema_as_migrations_made_it(
    databases: Databases, seeded: dict[str, Seeded]
) -> None:
    template = await databases.create("seedtest_schema_only", "after")
    connection = await asyncpg.connect(template)
    other = await asyncpg.connect(seeded["after"].dsn)
    try:
        assert await other.fetch(INDEXES_SQL) == await connection.fetch(INDEXES_SQL)
    finally:
        await connection.close()
        await other.close()


async def test_refuses_a_database_that_already_has_users(seeded: dict[str, Seeded]) -> None:
    run = seeded["after"]
    digest = await logical_digest(run.dsn, "after")
    with pytest.raises(SeedError, match="already hold rows"):
        await seed(run.dsn, layout="after", scale="tiny", seed=9, reference_time=REFERENCE_TIME)
    assert await logical_digest(run.dsn, "after") == digest


async def test_refuses_a_database_without_the_schema(databases: Databases) -> None:
    dsn = await databases.create("seedtest_no_schema", None)
    with pytest.raises(SeedError, match="do not exist"):
        await seed(dsn, layout="before", scale="tiny")


async def test_cli_seeds_then_refuses_to_seed_again(databases: Databases) -> None:
    dsn = await databases.create("seedtest_cli", "before")
    argv = [sys.executable, "-m", "stack_launcher.seed", "--dsn", dsn, "--layout", "before",
            "--scale", "tiny", "--reference-time", REFERENCE_TIME.isoformat()]  # fmt: skip
    first = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "public.events" in first.stderr
    again = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert again.returncode == 1
    assert "already hold rows" in again.stderr
    assert await fetchval(dsn, "SELECT count(*) FROM users") == TINY.users


def test_events_are_time_ordered_json_of_the_payload_size() -> None:
    users = generate_users(TINY, 42, REFERENCE_TIME)
    registered = {user.id: user.created_at for user in users}
    lines = [
        line.split("\t")
        for _, chunk in event_chunks(TINY, 42, REFERENCE_TIME, users)
        for line in chunk.decode().splitlines()
    ]
    assert [int(line[0]) for line in lines] == list(range(1, TINY.events + 1))
    times = [datetime.fromisoformat(line[5]) for line in lines]
    assert times == sorted(times)
    assert REFERENCE_TIME - timedelta(days=90) <= times[0] and times[-1] <= REFERENCE_TIME
    for line, at in zip(lines, times, strict=True):
        assert at >= registered[int(line[1])]
        assert "\\" not in line[4]
        payload = json.loads(line[4])
        assert payload["kind"] == line[3]
        assert abs(len(line[4]) - TINY.payload_bytes) <= 64
    assert sum(line[1] != line[2] for line in lines) > TINY.events // 5


def test_generation_is_deterministic() -> None:
    def generate(seed_value: int) -> list[bytes]:
        users = generate_users(TINY, seed_value, REFERENCE_TIME)
        return [chunk for _, chunk in event_chunks(TINY, seed_value, REFERENCE_TIME, users)]

    assert generate(42) == generate(42)
    assert generate(42) != generate(43)
