"""Alembic environment of this service: its revisions, versioned in its own schema."""

from service_common.migrations import run_env

run_env("skeleton")
