"""Seeded users (account + profile + prefs as one logical row) and their historical reports."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from random import Random
from typing import NamedTuple

from stack_launcher.seed.scales import Scale

FIRST_NAMES = (
    "Ada", "Alan", "Amara", "Ana", "Aiko", "Bea", "Bruno", "Carla", "Chen", "Dara", "Diego",
    "Elif", "Emil", "Farah", "Finn", "Grace", "Hana", "Hugo", "Ines", "Ivan", "Jae", "Jonas",
    "Kofi", "Lea", "Leo", "Lina", "Luca", "Maya", "Mateo", "Mira", "Nadia", "Noah", "Omar",
    "Priya", "Quinn", "Rafa", "Rosa", "Sami", "Sofia", "Tariq", "Tess", "Uma", "Vera", "Wen",
    "Xavi", "Yara", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Abe", "Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad",
    "Ito", "Jensen", "Kim", "Kowalski", "Lopez", "Meyer", "Moreau", "Nakamura", "Novak",
    "Okafor", "Olsen", "Patel", "Quispe", "Rossi", "Schmidt", "Silva", "Tanaka", "Tran",
    "Ueda", "Varga", "Weber", "Xu", "Yilmaz", "Zhang",
)  # fmt: skip
ROLES = ("Engineer", "Designer", "Analyst", "Teacher", "Nurse", "Writer", "Founder", "Chef")
PLACES = ("a small studio", "a hospital", "a startup", "the city library", "a bakery", "a lab")
HOBBIES = ("climbing", "chess", "jazz", "gardening", "running", "film", "baking", "birding")
THEMES = ("light", "dark", "system")
LOCALES = ("en", "en", "en", "de", "fr", "es", "pt-BR", "ja")
REPORT_ERRORS = (
    "pdf render timed out after 30 s",
    "smtp: 421 service not available",
    "webhook: connection refused",
)

YEAR = timedelta(days=365)
EVENT_WINDOW = timedelta(days=90)


class SeedUser(NamedTuple):
    """One user as both layouts store it (accounts/users + profiles + prefs)."""

    id: int
    email: str
    display_name: str
    bio: str
    avatar_url: str | None
    created_at: datetime
    updated_at: datetime
    theme: str
    locale: str
    email_notifications: bool
    prefs_updated_at: datetime
    activity: float  # relative event rate, Pareto-distributed: a few users are very heavy


class SeedReport(NamedTuple):
    """One historical report (done or failed, no PDF kept)."""

    id: uuid.UUID
    user_id: int
    kind: str
    days: int
    status: str
    error: str | None
    created_at: datetime
    started_at: datetime
    completed_at: datetime


def generate_users(scale: Scale, seed: int, reference_time: datetime) -> list[SeedUser]:
    """Return users 1..N, registered over the year before reference_time in id order."""
    rng = Random(f"{seed}/users")
    offsets = sorted(rng.random() for _ in range(scale.users))
    users = []
    for user_id, offset in enumerate(offsets, start=1):
        created_at = reference_time - YEAR + offset * YEAR
        age = reference_time - created_at
        edited = created_at + rng.random() * age if rng.random() < 0.5 else created_at
        bio = ""
        if rng.random() < 0.6:
            hobby, other = rng.sample(HOBBIES, 2)
            bio = f"{rng.choice(ROLES)} at {rng.choice(PLACES)}. Into {hobby} and {other}."
        avatar_url = f"https://avatars.example.test/u/{user_id}.png" if rng.random() < 0.4 else None
        users.append(
            SeedUser(
                id=user_id,
                email=f"user{user_id}@example.com",
                display_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                bio=bio,
                avatar_url=avatar_url,
                created_at=created_at,
                updated_at=edited,
                theme=rng.choices(THEMES, weights=(35, 35, 30))[0],
                locale=rng.choice(LOCALES),
                email_notifications=rng.random() < 0.9,
                prefs_updated_at=edited if rng.random() < 0.3 else created_at,
                activity=min(rng.paretovariate(1.3), 200.0),
            )
        )
    return users


def generate_reports(
    scale: Scale, seed: int, reference_time: datetime, users: list[SeedUser]
) -> list[SeedReport]:
    """Return historical reports of the last 90 days, ordered by creation time."""
    rng = Random(f"{seed}/reports")
    # A third of the users ever asked for a report; those that did asked for a few.
    requesters = rng.sample(users, max(1, len(users) // 3))
    reports = []
    for _ in range(scale.reports):
        user = rng.choice(requesters)
        window = min(EVENT_WINDOW, reference_time - user.created_at)
        created_at = reference_time - rng.random() * window
        started_at = created_at + timedelta(milliseconds=rng.randint(20, 2_000))
        completed_at = started_at + timedelta(milliseconds=rng.randint(800, 20_000))
        failed = rng.random() < 0.08
        reports.append(
            SeedReport(
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                user_id=user.id,
                kind="activity_pdf",
                days=rng.choice((7, 7, 30, 30, 30, 90, rng.randint(1, 90))),
                status="failed" if failed else "done",
                error=rng.choice(REPORT_ERRORS) if failed else None,
                created_at=created_at,
                started_at=started_at,
                completed_at=completed_at,
            )
        )
    reports.sort(key=lambda report: (report.created_at, report.id))
    return reports
