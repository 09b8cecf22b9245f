"""A digest of the logical data read back from either layout, to prove both hold the same."""

from __future__ import annotations

import hashlib

import asyncpg  # type: ignore[import-untyped]

from stack_launcher.seed.layouts import Layout

# One query per logical table, each row rendered as text in the same column order in both
# layouts. password_hash is left out: its salt differs per run, its password does not.
_USERS = {
    "after": """
        SELECT a.id, a.email, p.email AS profile_email, p.display_name, p.bio, p.avatar_url,
               a.created_at, p.created_at AS profile_created_at, p.updated_at,
               f.theme, f.locale, f.email_notifications, f.webhook_url, f.updated_at
        FROM identity.accounts a
        JOIN users.profiles p ON p.user_id = a.id
        JOIN users.prefs f ON f.user_id = a.id""",
    "before": """
        SELECT u.id, u.email, u.email AS profile_email, u.display_name, p.bio, p.avatar_url,
               u.created_at, u.created_at AS profile_created_at, p.updated_at,
               f.theme, f.locale, f.email_notifications, f.webhook_url, f.updated_at
        FROM users u
        JOIN profiles p ON p.user_id = u.id
        JOIN prefs f ON f.user_id = u.id""",
}
_EVENTS = {
    "after": "SELECT id, user_id, actor_id, kind, payload, created_at FROM users.events",
    "before": "SELECT id, user_id, actor_id, kind, payload, created_at FROM events",
}
_REPORTS = {
    layout: f"""SELECT id, user_id, kind, days, status, idempotency_key, request_hash, error,
                       created_at, started_at, completed_at FROM {table}"""
    for layout, table in (("after", "jobs.reports"), ("before", "reports"))
}


async def logical_digest(dsn: str, layout: Layout) -> str:
    """Return a SHA-256 over users, events and reports of a seeded database of `layout`."""
    # Row hashes are computed and concatenated server-side: a million 1 KB events never
    # travel to Python, and timestamps render in UTC whatever the server's TimeZone.
    connection = await asyncpg.connect(dsn, server_settings={"TimeZone": "UTC"})
    try:
        digest = hashlib.sha256()
        for name, query in (
            ("users", _USERS[layout]),
            ("events", _EVENTS[layout]),
            ("reports", _REPORTS[layout]),
        ):
            part = await connection.fetchrow(
                f"SELECT count(*) AS rows, md5(string_agg(md5(t::text), '' ORDER BY t.id)) "
                f"AS hash FROM ({query}) t"
            )
            assert part is not None
            digest.update(f"{name}:{part['rows']}:{part['hash']}\n".encode())
        return digest.hexdigest()
    finally:
        await connection.close()
