"""infra/k8s/create-secrets.sh, run against a stand-in kubectl that records its calls."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from deploy_support import K8S
from stack_launcher.forked import forked_services

FAKE_KUBECTL = """#!/usr/bin/env bash
# Records each call; `create --dry-run` prints the env file it was given, `apply` its stdin.
echo "$*" >> "$CALLS"
if [ "$1" = create ]; then
  for arg in "$@"; do case $arg in --from-env-file=*) cat "${arg#--from-env-file=}";; esac; done
else
  cat >> "$APPLIED"
fi
"""


def run_script(tmp_path: Path, env_text: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "kubectl"
    fake.write_text(FAKE_KUBECTL)
    fake.chmod(0o755)
    env_file = tmp_path / "secrets.env"
    env_file.write_text(env_text)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "CALLS": str(tmp_path / "calls"),
        "APPLIED": str(tmp_path / "applied"),
    }
    return subprocess.run(
        ["bash", str(K8S / "create-secrets.sh"), str(env_file), "refactor-lab"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
        check=False,
    )


def test_refuses_placeholders(tmp_path: Path) -> None:
    result = run_script(tmp_path, (K8S / "secrets.example.env").read_text())
    assert result.returncode != 0 and "CHANGE_ME" in result.stderr
    assert not (tmp_path / "calls").exists()


def test_creates_one_secret_per_section(tmp_path: Path) -> None:
    filled = (K8S / "secrets.example.env").read_text().replace("CHANGE_ME", "s3cret")
    result = run_script(tmp_path, filled)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    created = sorted(c.split()[3] for c in calls if c.startswith("create secret generic"))
    assert created == sorted(
        [
            "core-api-secrets",
            "identity-secrets",
            "user-secrets",
            "jobs-secrets",
            "migrate-secrets",
            "pgbouncer-secrets",
            "keda-redis-auth",
        ]
        + [f"{fork.name.replace('_', '-')}-secrets" for fork in forked_services()]
    )
    applied = (tmp_path / "applied").read_text()
    assert "JOBS_WEBHOOK__SECRET=s3cret" in applied and "#" not in applied
