"""When each owed job last moved, and deliveries that were given up.

`touched_at` is the sweeper's clock (see pipeline/sweeper.py): set when a report is created, taken
by a worker or published again, and when a delivery is owed, attempted or published again. A row
still owed whose `touched_at` is old has lost its message. `given_up_at` ends a delivery that
will not succeed by asking again (refused, retries spent, the user gone), so nothing sends it
later; `last_error` says why.

Revision ID: jobs_0002
Revises: jobs_0001
"""

from service_common.migrations import run_sql

revision = "jobs_0002"
down_revision = "jobs_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # now() is stable, so PostgreSQL stores one default for existing rows without a rewrite.
    run_sql(
        """
        ALTER TABLE jobs.reports ADD COLUMN touched_at timestamptz NOT NULL DEFAULT now();
        CREATE INDEX ix_reports_owed_touched ON jobs.reports (touched_at)
            WHERE status IN ('queued', 'running');
        ALTER TABLE jobs.deliveries
            ADD COLUMN touched_at timestamptz NOT NULL DEFAULT now(),
            ADD COLUMN given_up_at timestamptz,
            ADD COLUMN last_error text;
        CREATE INDEX ix_deliveries_owed_touched ON jobs.deliveries (touched_at)
            WHERE delivered_at IS NULL AND given_up_at IS NULL;
        """
    )


def downgrade() -> None:
    run_sql(
        """
        DROP INDEX jobs.ix_deliveries_owed_touched;
        ALTER TABLE jobs.deliveries
            DROP COLUMN last_error, DROP COLUMN given_up_at, DROP COLUMN touched_at;
        DROP INDEX jobs.ix_reports_owed_touched;
        ALTER TABLE jobs.reports DROP COLUMN touched_at;
        """
    )
