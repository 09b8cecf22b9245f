"""The rungs of the fix-by-fix ladder and the leave-one-out view, as data.

Each rung names a layout the launcher knows (`stack_launcher.variants` registers the after-*
variants): the before layout, then the after layout with its configurable fixes switched on in
the published order. What could not be built as an honest variant is listed in LEFT_OUT with
the reason, and the report prints it, rather than measuring a stand-in.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rung:
    key: str
    layout: str
    fixes: tuple[int, ...]  # the published fixes this rung adds to the previous one
    title: str


@dataclass(frozen=True)
class LeftOut:
    fix: int
    title: str
    reason: str


# Published fix titles (the story's order; docs/migration.md has one section each).
FIX_TITLES = {
    1: "merge services",
    2: "really async",
    3: "work out of the request",
    4: "fix the database",
    5: "cache",
    6: "runtime tuning",
}
# Published attribution (the story): architecture ~85% of the gains, runtime tuning ~10-15%.
PUBLISHED_SHARES = {"architecture": (0.85, 0.85), "runtime": (0.10, 0.15)}
ARCHITECTURE_FIXES = (1, 2, 3, 4, 5)
RUNTIME_FIXES = (6,)

LADDER = (
    Rung("before", "before", (), "before: 14 services, sync"),
    Rung(
        "async",
        "after-rung-async",
        (1, 2),
        "merged and async (4 services; jobs in the request, no events index, no cache, "
        "plain uvicorn)",
    ),
    Rung("celery", "after-rung-celery", (3,), "+ jobs out of the request (Celery)"),
    Rung("database", "after-rung-database", (4,), "+ events index ix_events_user_created"),
    Rung("cache", "after-no-runtime", (5,), "+ cache (Redis)"),
    Rung("runtime", "after", (6,), "+ runtime tuning (gunicorn, uvloop, httptools) = after"),
)
LEAVE_ONE_OUT = (
    Rung("no-celery", "after-no-celery", (3,), "after without Celery (jobs in the request)"),
    Rung("no-index", "after-no-index", (4,), "after without the events index"),
    Rung("no-cache", "after-no-cache", (5,), "after without the cache"),
    Rung("no-runtime", "after-no-runtime", (6,), "after on plain uvicorn (asyncio, h11)"),
)
LEFT_OUT = (
    LeftOut(
        1,
        "merged services, still sync",
        "the after code is async end to end (SQLAlchemy's async engine on asyncpg, "
        "httpx.AsyncClient, awaited in every repository and peer call), so a sync variant "
        "is a second code path, not a setting. It would need a sync engine/client switch in "
        "service_common (a psycopg2 engine with sync sessions run on the event loop, and a "
        "requests-based peer client without pooling) and a sync twin of each repository and "
        "peer call. Fixes 1 and 2 are measured together, as the before -> async rung.",
    ),
    LeftOut(
        4,
        "N+1 and column lists",
        "one statement per read naming its columns is code in the user and jobs repositories; "
        "switching it back would mean keeping the before layout's queries beside them. Only "
        "the events index is switchable (its own Alembic revision), so the database rung "
        "measures the index, and the N+1 and column-list fixes are inside every after rung "
        "(credited to the before -> async step).",
    ),
    LeftOut(
        6,
        "orjson responses",
        "OrjsonResponse is used in code for the bodies services compose; the runtime rung "
        "switches the server (gunicorn, uvloop, httptools), not the JSON library.",
    ),
)
RUNGS_BY_KEY = {rung.key: rung for rung in (*LADDER, *LEAVE_ONE_OUT)}


def ladder_layouts() -> tuple[str, ...]:
    """Return every layout name the ladder measures (rungs and leave-one-out, each once)."""
    return tuple(dict.fromkeys(rung.layout for rung in (*LADDER, *LEAVE_ONE_OUT)))
