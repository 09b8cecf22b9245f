"""The before layout for the launcher: its 14 processes and how its database is prepared."""

from __future__ import annotations

from pathlib import Path

import psycopg2
from stack_launcher.pg import run_sync
from stack_launcher.stack import StackConfig
from stack_launcher.supervisor import ProcessSpec

from before_layout.settings import SERVICES, default_port, env_name

SCHEMA = Path(__file__).resolve().parents[2] / "schema.sql"


def prepare(config: StackConfig) -> None:
    """Create the frozen schema in the layout's fresh database, then seed it."""
    conn = psycopg2.connect(config.database_dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(SCHEMA.read_text())
    finally:
        conn.close()
    if config.scale:
        from stack_launcher.seed import seed

        run_sync(seed(config.database_dsn, layout="before", scale=config.scale))


def processes(config: StackConfig) -> list[ProcessSpec]:
    """Describe the 14 services: one uvicorn process each, peers found through BEFORE_*_URL."""
    ports = {
        name: config.public_port if name == "gateway" else config.port_for(name, default_port(name))
        for name in SERVICES
    }
    config.ports["gateway"] = config.public_port
    env = config.env(
        BEFORE_ENVIRONMENT=config.environment,
        BEFORE_DATABASE_URL=config.database_dsn,
        BEFORE_JWT_SECRET=config.secrets["jwt"],
        BEFORE_DOWNLOAD_SECRET=config.secrets["download"],
        BEFORE_WEBHOOK_SECRET=config.secrets["webhook"],
        BEFORE_SMTP_HOST=config.smtp_host,
        BEFORE_SMTP_PORT=str(config.smtp_port),
        # The local webhook receiver sits on loopback, which prefs refuses unless allowed.
        BEFORE_WEBHOOK_ALLOWED_HOSTS=f"127.0.0.1:{config.webhook_port}",
        **{env_name(name): f"http://127.0.0.1:{port}" for name, port in ports.items()},
    )
    return [
        ProcessSpec(
            name,
            [config.python, "-m", "before_layout.run", name, "--port", str(port)],
            env=env,
            port=port,
            ready_path="/readyz",
        )
        for name, port in ports.items()
    ]
