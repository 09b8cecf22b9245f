"""Alembic environment of the jobs service: its revisions, versioned in schema `jobs`."""

from service_common.migrations import run_env

run_env("jobs")
