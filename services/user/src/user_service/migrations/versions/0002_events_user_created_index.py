"""Composite index for the activity feed: fix 4 of the published story.

Without it every feed, dashboard and 7-day count scans the whole events table; with it they read
one user's newest rows in order. Kept as its own revision so the ladder can downgrade just this.

Revision ID: users_0002
Revises: users_0001
"""

from service_common.migrations import run_sql

revision = "users_0002"
down_revision = "users_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        "CREATE INDEX ix_events_user_created ON users.events (user_id, created_at DESC, id DESC)"
    )


def downgrade() -> None:
    run_sql("DROP INDEX users.ix_events_user_created")
