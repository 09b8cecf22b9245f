"""The ASGI entry for gunicorn: `user_service.main:app`."""

from user_service.app import create_app

app = create_app()
