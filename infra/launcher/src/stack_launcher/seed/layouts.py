"""Where each layout keeps the logical data: table names, columns and row shapes per table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stack_launcher.seed.people import SeedReport, SeedUser

Layout = Literal["after", "before"]
LAYOUTS: tuple[Layout, ...] = ("after", "before")

REPORT_COLUMNS = ("id", "user_id", "kind", "days", "status", "error", "created_at",
                  "started_at", "completed_at")  # fmt: skip
EVENT_COLUMNS = ("id", "user_id", "actor_id", "kind", "payload", "created_at")


@dataclass(frozen=True, slots=True)
class UserTable:
    """A table filled from SeedUser rows: (schema, table, columns, row builder)."""

    schema: str
    table: str
    columns: tuple[str, ...]
    row: Callable[[SeedUser, str], Sequence[Any]]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True, slots=True)
class LayoutTables:
    """All tables one layout's seed writes, in a foreign-key-safe load order."""

    user_tables: tuple[UserTable, ...]
    events: tuple[str, str]
    reports: tuple[str, str]
    # Tables whose identity column must continue after the seeded ids.
    identities: tuple[str, ...]

    def qualified_names(self) -> list[str]:
        names = [table.qualified for table in self.user_tables]
        return [*names, ".".join(self.events), ".".join(self.reports)]


def _prefs(user: SeedUser, _hash: str) -> Sequence[Any]:
    # webhook_url stays NULL: the bench sets one only when it wants the receiver to be hit.
    return (user.id, user.theme, user.locale, user.email_notifications, None,
            user.prefs_updated_at)  # fmt: skip


_PREFS_COLUMNS = ("user_id", "theme", "locale", "email_notifications", "webhook_url",
                  "updated_at")  # fmt: skip

TABLES: dict[Layout, LayoutTables] = {
    "after": LayoutTables(
        user_tables=(
            UserTable(
                "identity",
                "accounts",
                ("id", "email", "password_hash", "created_at"),
                lambda user, hash_: (user.id, user.email, hash_, user.created_at),
            ),
            UserTable(
                "users",
                "profiles",
                (
                    "user_id",
                    "email",
                    "display_name",
                    "bio",
                    "avatar_url",
                    "created_at",
                    "updated_at",
                ),  # fmt: skip
                lambda user, _hash: (
                    user.id,
                    user.email,
                    user.display_name,
                    user.bio,
                    user.avatar_url,
                    user.created_at,
                    user.updated_at,
                ),  # fmt: skip
            ),
            UserTable("users", "prefs", _PREFS_COLUMNS, _prefs),
        ),
        events=("users", "events"),
        reports=("jobs", "reports"),
        identities=("identity.accounts", "users.events"),
    ),
    "before": LayoutTables(
        user_tables=(
            UserTable(
                "public",
                "users",
                ("id", "email", "password_hash", "display_name", "created_at"),
                lambda user, hash_: (
                    user.id,
                    user.email,
                    hash_,
                    user.display_name,
                    user.created_at,
                ),  # fmt: skip
            ),
            UserTable(
                "public",
                "profiles",
                ("user_id", "bio", "avatar_url", "updated_at"),
                lambda user, _hash: (user.id, user.bio, user.avatar_url, user.updated_at),
            ),
            UserTable("public", "prefs", _PREFS_COLUMNS, _prefs),
        ),
        events=("public", "events"),
        reports=("public", "reports"),  # pdf stays NULL: seeded reports keep no file
        identities=("public.users", "public.events"),
    ),
}


def report_row(report: SeedReport) -> tuple[Any, ...]:
    """Return a report in REPORT_COLUMNS order (same columns in both layouts)."""
    return (report.id, report.user_id, report.kind, report.days, report.status, report.error,
            report.created_at, report.started_at, report.completed_at)  # fmt: skip
