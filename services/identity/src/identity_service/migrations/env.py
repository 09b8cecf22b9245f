"""Alembic environment of the identity service: its revisions, versioned in schema `identity`."""

from service_common.migrations import run_env

run_env("identity")
