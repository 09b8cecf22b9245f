"""Reports, their PDF files and their third-party deliveries.

Revision ID: jobs_0001
Revises:
"""

from service_common.migrations import run_sql

revision = "jobs_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(
        """
        CREATE TABLE jobs.reports (
            id uuid PRIMARY KEY,
            user_id bigint NOT NULL,
            kind text NOT NULL,
            days integer NOT NULL CHECK (days BETWEEN 1 AND 90),
            status text NOT NULL DEFAULT 'queued'
                CHECK (status IN ('queued', 'running', 'done', 'failed')),
            idempotency_key text,
            request_hash text,
            error text,
            created_at timestamptz NOT NULL DEFAULT now(),
            started_at timestamptz,
            completed_at timestamptz,
            UNIQUE (user_id, idempotency_key)
        );
        CREATE INDEX ix_reports_user_created ON jobs.reports (user_id, created_at DESC);
        CREATE TABLE jobs.report_files (
            report_id uuid PRIMARY KEY REFERENCES jobs.reports (id) ON DELETE CASCADE,
            content bytea NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE jobs.deliveries (
            report_id uuid NOT NULL REFERENCES jobs.reports (id) ON DELETE CASCADE,
            channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
            attempts integer NOT NULL DEFAULT 0,
            delivered_at timestamptz,
            PRIMARY KEY (report_id, channel)
        );
        """
    )


def downgrade() -> None:
    run_sql("DROP TABLE jobs.deliveries; DROP TABLE jobs.report_files; DROP TABLE jobs.reports;")
