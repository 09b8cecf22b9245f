"""When each owed job last moved, and deliveries that were given up.

`touched_at` is the sweeper's clock (see sweeper/service.py): set when a report is created, taken
by a worker or published again, and when a delivery is owed, attempted, retried or published
again. A row still owed whose `touched_at` is old has lost its message. `given_up_at` ends a
delivery that will not succeed by asking again (refused, retries spent, the user gone), so
nothing sends it later; `last_error` says why.

Before this revision a delivery that would never succeed (refused, retries spent) stayed without
delivered_at, like one still in flight. So that the sweeper does not send those months late, an
undelivered row of a report done more than 15 minutes before the upgrade is given up here; the
newer ones are most likely in flight, and are left owed.

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
        UPDATE jobs.deliveries AS d
        SET given_up_at = now(), last_error = 'undelivered before jobs_0002, not sent again'
        FROM jobs.reports AS r
        WHERE r.id = d.report_id AND d.delivered_at IS NULL
          AND r.completed_at < now() - interval '15 minutes';
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
