"""Secrets: placeholders refused outside development, and none ever in a response or a log line.

Named to run last in this folder: the log search covers every request the other security tests
made (registrations, logins with right and wrong passwords, fuzzing) on the shared stack.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from core_api.settings import Settings as CoreApiSettings
from fault_support import Figures
from identity_service.settings import Settings as IdentitySettings
from jobs_service.settings import Settings as JobsSettings
from pydantic import ValidationError
from pydantic_settings import BaseSettings
from security_support import PASSWORD, Account, login
from stack_launcher.seed import SEED_PASSWORD
from stack_launcher.stack import Stack

pytestmark = pytest.mark.slow

# Every service whose settings hold a secret; the user service holds none.
SETTINGS_WITH_SECRETS: dict[str, tuple[type[BaseSettings], str]] = {
    "identity": (IdentitySettings, "IDENTITY_"),
    "core_api": (CoreApiSettings, "CORE_API_"),
    "jobs": (JobsSettings, "JOBS_"),
}
REAL = "r" * 48


@pytest.mark.parametrize("service", list(SETTINGS_WITH_SECRETS))
@pytest.mark.parametrize("environment", ["test", "production"])
def test_placeholder_secrets_are_refused_outside_development(
    service: str, environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_class, prefix = SETTINGS_WITH_SECRETS[service]
    for name in list(os.environ):
        if name.startswith(prefix):
            monkeypatch.delenv(name)
    monkeypatch.setenv(f"{prefix}ENVIRONMENT", environment)
    with pytest.raises(ValidationError, match="real secret"):
        settings_class()
    # Each secret of the service, set to a real value, is what lets it start.
    for variable in _secret_variables(service):
        monkeypatch.setenv(f"{prefix}{variable}", REAL)
    assert settings_class().environment.value == environment
    monkeypatch.setenv(f"{prefix}{_secret_variables(service)[0]}", "change-me")
    with pytest.raises(ValidationError, match="real secret"):
        settings_class()


@pytest.mark.parametrize("service", list(SETTINGS_WITH_SECRETS))
def test_placeholders_still_start_a_development_service(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_class, prefix = SETTINGS_WITH_SECRETS[service]
    monkeypatch.setenv(f"{prefix}ENVIRONMENT", "development")
    assert settings_class().environment.value == "development"


def _secret_variables(service: str) -> list[str]:
    return {
        "identity": ["JWT__SECRET"],
        "core_api": ["JWT__SECRET", "DOWNLOADS__SECRET"],
        "jobs": ["WEBHOOK__SECRET"],
    }[service]


def test_no_secret_or_password_hash_in_responses_or_logs(
    client: httpx.Client, security_stack: Stack, alice: Account, figures: Figures
) -> None:
    # A wrong and a right login, so the logs had the chance to mention a password.
    login(client, alice.email, PASSWORD + "-wrong", alice.ip)
    bodies = [
        client.get("/v1/me", headers=alice.headers).text,
        client.get("/v1/me/dashboard", headers=alice.headers).text,
        client.get(f"/v1/users/{alice.id}").text,
        login(client, alice.email, PASSWORD, "203.0.113.9").text,
    ]
    needles = {
        "password": PASSWORD,
        "seed password": SEED_PASSWORD,
        "argon2 hash": "$argon2",
        **{f"{name} key": value for name, value in security_stack.secrets.items()},
    }
    logs = sorted(Path(security_stack.config.log_dir).glob("*.log"))
    log_text = {path.name: path.read_text(errors="replace") for path in logs}
    found = [
        (needle, where)
        for needle, value in needles.items()
        for where, text in [
            *((f"response {i}", b) for i, b in enumerate(bodies)),
            *log_text.items(),
        ]
        if value in text
    ]
    figures.record(
        searched_logs={name: len(text.splitlines()) for name, text in log_text.items()},
        searched_for=sorted(needles),
        findings=found,
    )
    assert logs, "the stack wrote no log files"
    assert not found, found
