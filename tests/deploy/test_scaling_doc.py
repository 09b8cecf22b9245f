"""docs/scaling.md answers what the issue asks, and quotes the manifests' real values."""

from __future__ import annotations

from deploy_support import K8S, REPO

DOC = REPO / "docs" / "scaling.md"


def test_the_doc_covers_the_questions() -> None:
    text = DOC.read_text()
    for needle in (
        "kubectl apply -k infra/k8s/overlays/prod",
        "create-secrets.sh",
        "What do I change to run this on 10 machines",
        "<!-- measured-saturation-point -->",
        "pool_size + max_overflow",
        "Celery backlog",
        "Redis CPU",
    ):
        assert needle in text, needle


def test_the_doc_quotes_the_pgbouncer_limits_in_use() -> None:
    text = DOC.read_text()
    config = dict(
        line.split("=", 1)
        for line in (K8S / "base/config/pgbouncer.env").read_text().splitlines()
        if "=" in line
    )
    assert f"MAX_CLIENT_CONN={config['MAX_CLIENT_CONN']}" in text
    assert f"MAX_DB_CONNECTIONS={config['MAX_DB_CONNECTIONS']}" in text
