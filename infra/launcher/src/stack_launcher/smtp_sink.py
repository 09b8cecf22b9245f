"""Local SMTP sink standing in for a mail provider: answers after a latency, records each message.

Run: python -m stack_launcher.smtp_sink --port 8025 --latency-ms 150 --record mail.jsonl
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import signal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from stack_launcher.records import append_record, utc_now

DEFAULT_PORT = 8025
DEFAULT_LATENCY_MS = 150


class RecordingHandler:
    """aiosmtpd handler that waits the provider latency, then records and accepts the message."""

    def __init__(self, record_path: Path, latency_ms: int) -> None:
        self.record_path = record_path
        self.latency_s = latency_ms / 1000

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Accept one message after the provider latency and append it to the record file."""
        # Simulated third-party latency (DESIGN.md section 5): one of the only two places where
        # the project waits on purpose. Each connection waits on its own, as at a real provider.
        await asyncio.sleep(self.latency_s)
        append_record(self.record_path, describe_message(envelope))
        return "250 Message accepted for delivery"


def describe_message(envelope: Envelope) -> dict[str, Any]:
    """Return the recorded fields of one received message."""
    raw = envelope.original_content or b""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)  # the default policy builds EmailMessage
    body = message.get_body(preferencelist=("plain", "html"))
    return {
        "mail_from": envelope.mail_from,
        "rcpt_tos": list(envelope.rcpt_tos),
        "subject": str(message.get("Subject", "")),
        "body_text": body.get_content() if isinstance(body, EmailMessage) else "",
        "has_attachment": any(True for _ in message.iter_attachments()),
        "received_at": utc_now(),
    }


async def serve(host: str, port: int, latency_ms: int, record_path: Path) -> None:
    """Serve SMTP until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    handler = RecordingHandler(record_path, latency_ms)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp-sink", loop=loop), host=host, port=port
    )
    stopped = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    print(f"smtp sink on {host}:{port}, latency {latency_ms} ms, recording to {record_path}")
    await stopped.wait()
    server.close()
    await server.wait_closed()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the sink."""
    parser = argparse.ArgumentParser(prog="python -m stack_launcher.smtp_sink")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--latency-ms", type=int, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--record", type=Path, required=True, help="JSON-lines file to append to")
    args = parser.parse_args(argv)
    args.record.parent.mkdir(parents=True, exist_ok=True)
    args.record.touch()
    asyncio.run(serve(args.host, args.port, args.latency_ms, args.record))


if __name__ == "__main__":
    main()
