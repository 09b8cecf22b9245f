"""Render docs/reliability.md from the JSON figures a `make test-reliability` run wrote.

Usage: python tools/reliability_report.py RESULTS_DIR [--out docs/reliability.md]

The page is made from the result files alone, plus the run's date, machine and git SHA; the
cross-references to tests that cover the rest of OWASP's list are fixed text below.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

FAULTS = [
    ("test_reads_survive_a_redis_outage_and_login_fails_closed", "1. Redis dies under load"),
    (
        "test_a_postgres_restart_fails_fast_recovers_and_applies_no_write_by_half",
        "2. PostgreSQL restarts under load",
    ),
    ("test_reports_of_a_sigkilled_worker_all_end_done_once", "3. A Celery worker is SIGKILLed"),
    ("test_overload_is_shed_with_retry_after_and_the_stack_recovers", "4. Overload at ~3x"),
    ("test_sigterm_to_core_api_loses_no_in_flight_request", "5. Graceful shutdown (SIGTERM)"),
    (
        "test_a_down_or_hanging_peer_fails_fast_and_leaves_no_partial_dashboard",
        "6. A downstream service is down",
    ),
]

OWASP_MAP = [
    ("API1 BOLA: another user's report is 404, list shows own only",
     "tests/contract/test_reports.py::test_reports_are_private"),
    ("API1 BOLA: another user's events never show, even through their cursor",
     "tests/security/test_owasp.py::test_another_users_events_never_show_even_through_their_cursor"),
    ("API2 JWT alg none / wrong key / expired / nbf / wrong aud / other alg -> 401 (real key)",
     "tests/security/test_owasp.py::test_forged_tokens_are_401_with_the_deployments_real_key; "
     "unit level: services/core_api/tests/test_tokens.py::"
     "test_a_bad_token_is_401_and_no_peer_is_called"),
    ("API2 token of a logged-out session -> 401",
     "tests/contract/test_auth.py::test_logout_ends_the_session; "
     "services/core_api/tests/test_tokens.py::test_a_token_of_a_revoked_session_is_401"),
    ("API2 brute force limited per account",
     "tests/contract/test_auth.py::test_repeated_failed_logins_are_rate_limited; "
     "tests/security/test_owasp.py::test_an_account_is_limited_even_when_it_is_right_on_the_sixth_try"),
    ("API2 brute force limited per IP across accounts",
     "tests/security/test_owasp.py::test_login_from_one_address_is_limited_across_accounts; "
     "services/core_api/tests/test_auth.py::test_one_address_is_limited_across_accounts"),
    ("API2 refresh-token reuse revokes the session",
     "tests/contract/test_auth.py::test_login_refresh_rotation_and_reuse_revokes_the_session; "
     "services/identity/tests/test_sessions.py::test_reused_refresh_token_revokes_the_session"),
    ("API3 mass assignment refused (extra=\"forbid\")",
     "tests/security/test_owasp.py::test_fields_a_caller_may_not_set_are_refused; "
     "tests/contract/test_reports.py::test_report_request_validation[extra-field]"),
    ("API4 body size capped (by header and streamed)",
     "tests/security/test_owasp.py::test_a_body_over_the_cap_is_413_at_the_real_edge"),
    ("API4 page size capped (limit 1..100)",
     "tests/contract/test_events.py::test_feed_default_page_and_limits"),
    ("API4 report range capped (days 1..90)",
     "tests/contract/test_reports.py::test_report_request_validation"),
    ("API7 SSRF: loopback, private, link-local, metadata, ::1, mapped, decimal/hex/octal IPs",
     "tests/security/test_owasp.py::test_webhook_urls_into_private_space_are_refused; "
     "services/user/tests/test_webhooks.py"),
    ("API7 SSRF: the configured receiver alone is allowed",
     "tests/security/test_owasp.py::test_the_configured_receiver_is_the_only_private_address_allowed"),
    ("Signed download links: forged, extended, moved, expired -> 404",
     "tests/security/test_owasp.py::test_signed_links_cannot_be_forged_extended_or_moved; "
     "services/core_api/tests/test_reports.py::test_an_altered_link_is_404_and_never_reaches_jobs"),
    ("API8 placeholder secrets refused outside development (each service's settings)",
     "tests/security/test_secrets.py::test_placeholder_secrets_are_refused_outside_development; "
     "libs/common/tests/test_settings_tokens.py"),
    ("No secret, password or hash in a response or a log line",
     "tests/security/test_secrets.py::test_no_secret_or_password_hash_in_responses_or_logs"),
]  # fmt: skip


def load(results: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Return the figures by suite and test name."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(results.glob("*/*.json")):
        document = json.loads(path.read_text())
        found.setdefault(document["suite"], {})[document["test"]] = document
    return found


def machine() -> str:
    """Describe the machine the run was on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    load_avg = ""
    if hasattr(os, "getloadavg"):
        load_avg = f", load average {os.getloadavg()[0]:.1f} at the end of the run"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{cpu}, {cores} cores{memory}, {platform.system()} {platform.release()}{load_avg}"


def git_sha() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return f"{sha}{' (with uncommitted changes)' if dirty else ''}" if sha else "unknown"


def _window(summary: dict[str, Any] | None) -> str:
    if not summary:
        return "-"
    kinds = ", ".join(f"{k}: {v}" for k, v in summary.get("by_result", {}).items())
    return f"{summary['requests']} requests ({kinds}); p95 {summary.get('p95_ms')} ms"


def fault_section(title: str, figures: dict[str, Any] | None) -> list[str]:
    lines = [f"### {title}", ""]
    if figures is None:
        return [*lines, "Not run.", ""]
    rows = [
        ("result", figures.get("outcome")),
        ("injected", figures.get("fault")),
        ("load", figures.get("load")),
    ]
    for key in ("before", "during", "after", "baseline", "recovery"):
        if key in figures:
            rows.append((f"requests {key}", _window(figures[key])))
    skip = {"fault", "load", "outcome", "suite", "test", "before", "during", "after", "baseline",
            "recovery"}  # fmt: skip
    rows += [(key.replace("_", " "), figures[key]) for key in sorted(figures) if key not in skip]
    lines += ["| figure | value |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in rows]
    return [*lines, ""]


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return "`" + json.dumps(value, sort_keys=True) + "`"
    return str(value).replace("|", "\\|")


def headline(faults: dict[str, dict[str, Any]]) -> list[str]:
    def get(test: str, key: str) -> Any:
        return faults.get(test, {}).get(key, "-")

    worker = "test_reports_of_a_sigkilled_worker_all_end_done_once"
    shutdown = "test_sigterm_to_core_api_loses_no_in_flight_request"
    redis = "test_reads_survive_a_redis_outage_and_login_fails_closed"
    postgres = "test_a_postgres_restart_fails_fast_recovers_and_applies_no_write_by_half"
    overload = "test_overload_is_shed_with_retry_after_and_the_stack_recovers"
    during_redis = faults.get(redis, {}).get("during", {})
    during_pg = faults.get(postgres, {}).get("during", {})
    swept = faults.get(worker, {}).get("published_again_by_sweeper")
    republished = round(sum(swept.values())) if isinstance(swept, dict) else "-"
    return [
        "| fault | errors in the fault window | recovery | lost |",
        "|---|---|---|---|",
        f"| Redis down | {during_redis.get('errors', '-')} of {during_redis.get('requests', '-')}"
        f" reads; logins {_cell(get(redis, 'logins_during'))} | reads "
        f"{get(redis, 'read_recovery_s')} s, login {get(redis, 'login_recovery_s')} s | - |",
        f"| PostgreSQL restart | {during_pg.get('errors', '-')} of {during_pg.get('requests', '-')}"
        f" ({_cell(get(postgres, 'error_statuses'))}) | {get(postgres, 'recovery_s')} s | "
        f"writes acknowledged {get(postgres, 'writes_answered_ok')}, applied "
        f"{get(postgres, 'writes_applied')} |",
        f"| Celery worker SIGKILL at a BRPOP | - | all {get(worker, 'reports')} final after "
        f"{get(worker, 'all_final_after_s')} s, {republished} lost by the broker and published "
        f"again by the sweeper | jobs lost **{get(worker, 'jobs_lost')}**, "
        f"duplicate emails {get(worker, 'duplicate_emails')}, duplicate webhooks "
        f"{get(worker, 'duplicate_webhooks')} |",
        f"| Overload ~3x | shed {get(overload, 'shed')} (all with Retry-After: "
        f"{get(overload, 'shed_with_retry_after')}) | recovery p95 "
        f"{faults.get(overload, {}).get('recovery', {}).get('p95_ms', '-')} ms | - |",
        f"| SIGTERM core_api | refused while down {get(shutdown, 'refused_while_down')} | "
        f"{get(shutdown, 'recovery_s')} s | requests lost **{get(shutdown, 'requests_lost')}** "
        f"(in flight {get(shutdown, 'in_flight_at_sigterm')}) |",
    ]


def security_section(security: dict[str, dict[str, Any]]) -> list[str]:
    lines = ["## Security", ""]
    st = security.get("schemathesis")
    if st:
        lines += [
            f"Schemathesis {st.get('schemathesis_version', '')}: {st['max_examples_per_operation']}"
            f" generated cases per operation, {st['seeded']}; checks "
            f"{', '.join(st['checks'])}.",
            "",
            "| service | operations | cases | responses | failing operations |",
            "|---|---|---|---|---|",
        ]
        for service, cases in st["cases"].items():
            lines.append(
                f"| {service} | {st['operations'].get(service, '-')} | {cases} | "
                f"{_cell(st['statuses'].get(service, {}))} | "
                f"{_cell(st['failing_operations'].get(service, []))} |"
            )
        lines.append("")
    fuzz = security.get("fuzzing")
    if fuzz:
        lines += [
            f"Input fuzzing (Hypothesis, derandomized, {fuzz['examples_per_strategy']} cases per "
            f"strategy; strategies: {'; '.join(fuzz['strategies'])}): no response was a 5xx.",
            "",
            "| endpoint | cases | responses |",
            "|---|---|---|",
        ]
        for name, cases in fuzz["cases"].items():
            lines.append(f"| {name} | {cases} | {_cell(fuzz['statuses'][name])} |")
        lines.append("")
    leaks = next((doc for name, doc in security.items() if name.startswith("test_no_secret")), None)
    if leaks:
        lines += [
            f"Secrets search ({leaks['outcome']}): {', '.join(leaks['searched_for'])} searched in "
            f"responses and in {len(leaks['searched_logs'])} log files "
            f"({sum(leaks['searched_logs'].values())} lines); findings: "
            f"{_cell(leaks['findings']) if leaks['findings'] else 'none'}.",
            "",
        ]
    lines += ["### OWASP API Top 10 (2023): where each case is tested", "",
              "| case | test |", "|---|---|"]  # fmt: skip
    lines += [f"| {case} | `{where}` |" for case, where in OWASP_MAP]
    return [*lines, ""]


def render(results: Path) -> str:
    figures = load(results)
    faults = figures.get("faults", {})
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# Reliability and security figures",
        "",
        "Generated by `make test-reliability` (tools/reliability_report.py) from the JSON its "
        "fault and security tests wrote; do not edit by hand.",
        "",
        f"- run: {stamp}, git {git_sha()}",
        f"- machine: {machine()}",
        "- layout: after (core_api, identity, user, jobs + Celery worker), one gunicorn worker "
        "per service (environment=test), embedded PostgreSQL and Redis, scale `tiny`; each fault "
        "test ran its own stack on its own servers; load generated by the tests themselves "
        "(httpx, open model, bounded count and duration) on the same machine",
        "",
        "## Faults at a glance",
        "",
        *headline(faults),
        "",
        "Jobs lost and requests lost in shutdown must be 0; every test asserts its own bounds "
        "(see tests/faults/).",
        "",
        "## Faults in detail",
        "",
    ]
    for test, title in FAULTS:
        lines += fault_section(title, faults.get(test))
    lines += security_section(figures.get("security", {}))
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "reliability.md")
    args = parser.parse_args(argv)
    if not any(args.results.glob("*/*.json")):
        raise SystemExit(f"no figures under {args.results}; run the tests with RELIABILITY_RESULTS")
    args.out.write_text(render(args.results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
