"""The ASGI entry for gunicorn: `identity_service.main:app`."""

from identity_service.app import create_app

app = create_app()
