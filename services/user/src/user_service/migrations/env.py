"""Alembic environment of the user service: its revisions, versioned in schema `users`."""

from service_common.migrations import run_env

run_env("users")
