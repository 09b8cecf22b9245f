"""The ASGI app for gunicorn (`-c python:service_common.gunicorn_conf core_api.main:app`)."""

from __future__ import annotations

from core_api.app import create_app

app = create_app()
