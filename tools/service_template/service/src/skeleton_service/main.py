"""The ASGI entry for gunicorn: `skeleton_service.main:app`."""

from skeleton_service.app import create_app

app = create_app()
