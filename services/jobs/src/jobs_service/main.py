"""ASGI entry for gunicorn/uvicorn: `jobs_service.main:app`."""

from jobs_service.app import create_app

app = create_app()
