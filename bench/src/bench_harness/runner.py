"""`bench_harness run`: measure one or both layouts, each on a fresh stack, into one result file.

With both layouts the before layout goes first: its sustainable rate becomes the fixed load that
both layouts are measured at (one the before layout can sustain), and the after layout's search
starts from it. After the layouts, the framework ceiling (ceiling.py) is measured the same way.
The result file is saved after every layout run, so an interrupted run keeps what it measured.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench_harness import ui
from bench_harness.ceiling import APPS, measure_ceiling
from bench_harness.ceiling_figures import console_lines
from bench_harness.fingerprint import fingerprint
from bench_harness.k6run import Target
from bench_harness.paths import DEFAULT_RESULTS_DIR, mix_weights
from bench_harness.profiles import PROFILES, Profile
from bench_harness.results import SCHEMA, SCHEMA_VERSION, finalise, now, save
from bench_harness.search import Criteria
from bench_harness.session import LayoutSession
from bench_harness.stack import email_template, seed_password, started, user_count

Json = dict[str, Any]


@dataclass(frozen=True)
class RunConfig:
    layout: str  # before | after | both
    profile: Profile
    scale: str
    out_dir: Path
    fixed_rate: int | None = None
    smtp_latency_ms: int = 150
    webhook_latency_ms: int = 200
    criteria: Criteria = Criteria()
    only: list[str] | None = None  # request types of the mix to send (None: the whole mix)
    cost: bool = True  # each request type's CPU cost alone (the ladder leaves it out by default)


SCALES = ("tiny", "small", "default", "large")


def add_measure_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options every measuring command shares (run, ladder)."""
    parser.add_argument("--profile", choices=sorted(PROFILES), default="quick")
    parser.add_argument("--scale", choices=SCALES, help="seed scale (default: the profile's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_RESULTS_DIR)
    parser.add_argument("--fixed-rate", type=int, help="fixed load in req/s (default: before's)")
    parser.add_argument("--smtp-latency-ms", type=int, default=150)
    parser.add_argument("--webhook-latency-ms", type=int, default=200)


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `run` alone: a subset of the mix, CPU profiles in any profile."""
    parser.add_argument(
        "--only",
        type=only_types,
        help="comma list of the mix's request types to send instead of the mix (k6's ONLY)",
    )
    parser.add_argument(
        "--profiles", action="store_true", help="record py-spy profiles (always in `full`)"
    )


def only_types(text: str) -> list[str]:
    """Parse `--only`: known request types of mix.json, in the order given."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = sorted(set(names) - set(mix_weights()))
    if not names or unknown:
        known = ", ".join(mix_weights())
        raise argparse.ArgumentTypeError(f"unknown request types {unknown}; known: {known}")
    return list(dict.fromkeys(names))


def config_from(args: argparse.Namespace, layout: str) -> RunConfig:
    """Return the run configuration those shared options describe."""
    profile = PROFILES[args.profile]
    if getattr(args, "profiles", False):
        profile = replace(profile, profiles=True)
    return RunConfig(
        layout=layout,
        profile=profile,
        scale=args.scale or profile.scale,
        out_dir=args.out.resolve(),
        fixed_rate=args.fixed_rate,
        smtp_latency_ms=args.smtp_latency_ms,
        webhook_latency_ms=args.webhook_latency_ms,
        only=getattr(args, "only", None),
    )


def plan(config: RunConfig) -> list[tuple[int, str]]:
    """Return the (repeat, layout key) runs in order; the A/A run measures after once more."""
    layouts = ["before", "after"] if config.layout == "both" else [config.layout]
    runs = [(repeat, layout) for repeat in range(config.profile.repeats) for layout in layouts]
    if config.profile.aa_run and "after" in layouts:
        runs.append((config.profile.repeats - 1, "after-aa"))
    return runs


def new_document(config: RunConfig, run_id: str) -> Json:
    """Return the result document before any layout was measured."""
    criteria = config.criteria
    return {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": now(),
        "finished_at": None,
        # As typed, without the interpreter's path: result files are shared beyond this machine.
        "command": ["python", "-m", "bench_harness", *sys.argv[1:]],
        "profile": config.profile.as_dict(),
        "scale": config.scale,
        "third_party_latency_ms": {
            "smtp": config.smtp_latency_ms,
            "webhook": config.webhook_latency_ms,
        },
        "criteria": {
            "p95_ms": criteria.p95_ms,
            "max_error_rate": criteria.max_error_rate,
            "max_dropped_ratio": criteria.max_dropped_ratio,
        },
        "mix": mix_weights(),
        "only": config.only,
        "fixed_rate": config.fixed_rate,
        "fixed_rate_source": "cli" if config.fixed_rate else None,
        "environment": fingerprint(),
        "layouts": {},
        "ceiling": None,
        "summary": {},
        "noise_floor": None,
        "errors": [],
    }


def run(config: RunConfig) -> tuple[Path, Json]:
    """Measure the configured layouts; return the result file's path and its document."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{stamp}-{config.layout}-{config.profile.name}"
    path = config.out_dir / f"{run_id}.json"
    artifacts = config.out_dir / run_id
    document = new_document(config, run_id)
    only = f", only {','.join(config.only)}" if config.only else ""
    ui.console.print(
        f"[bold]bench[/] {run_id}: profile {config.profile.name}, scale {config.scale}{only}, "
        f"results in {path}"
    )
    for repeat, key in plan(config):
        layout = "after" if key == "after-aa" else key
        fixed_rate = document["fixed_rate"]
        if fixed_rate is None and layout == "after":
            # No before run to take the rate from (an after-only run, or before failed).
            fixed_rate = document["fixed_rate"] = config.profile.fixed_rate_default
            document["fixed_rate_source"] = "profile-default"
        ui.console.rule(f"{key} (repeat {repeat + 1}/{config.profile.repeats})")
        measure_into(
            document, config, key=key, repeat=repeat, artifacts=artifacts, fixed_rate=fixed_rate
        )
        save(finalise(document), path)
    ceiling_into(document, config, artifacts)
    document["fixed_rate"] = document["fixed_rate"] or config.profile.fixed_rate_default
    document["fixed_rate_source"] = document["fixed_rate_source"] or "profile-default"
    document["finished_at"] = now()
    save(finalise(document), path)
    _link_latest(path)
    return path, document


def _search_start(config: RunConfig, document: Json, layout: str) -> int:
    start = config.profile.search_start_rate
    before = document["layouts"].get("before") or []
    if layout != "before" and before:
        # The after layout (and each ladder rung) is expected to do at least as well as before.
        start = max(start, before[-1]["search"]["sustainable_rps"])
    return start


def measure_layout(
    config: RunConfig,
    *,
    layout: str,
    repeat: int,
    artifacts: Path,
    fixed_rate: int | None,
    search_start: int,
) -> Json:
    """Start a fresh stack of one layout, measure it, stop it; return the run record."""
    artifacts.mkdir(parents=True, exist_ok=True)
    with ExitStack() as cleanup:
        with ui.status(f"{layout}: starting a fresh stack (scale {config.scale})"):
            stack = cleanup.enter_context(
                started(
                    layout,
                    workdir=artifacts / "stack",
                    scale=config.scale,
                    smtp_latency_ms=config.smtp_latency_ms,
                    webhook_latency_ms=config.webhook_latency_ms,
                )
            )
        users = user_count(stack, config.scale) or config.profile.pool_size
        target = Target(
            base_url=stack.base_url,
            pool_size=min(config.profile.pool_size, users),
            user_count=users,
            password=seed_password(),
            email_template=email_template(),
        )
        ui.console.print(f"  {layout} up at {stack.base_url} ({users} seeded users)")
        session = LayoutSession(
            layout=layout,
            stack=stack,
            profile=config.profile,
            criteria=config.criteria,
            artifacts=artifacts,
            target=target,
            only=config.only,
            cost=config.cost,
        )
        cleanup.callback(session.close)
        return session.measure(repeat=repeat, fixed_rate=fixed_rate, search_start=search_start)


def ceiling_into(document: Json, config: RunConfig, artifacts: Path) -> None:
    """Measure the framework ceiling (ceiling.py) into the document, after the layouts."""
    # The same search, started where the best layout stopped: the ceiling is above it.
    rates = [
        run["search"]["sustainable_rps"] for runs in document["layouts"].values() for run in runs
    ]
    start = max([config.profile.search_start_rate, *rates])
    section, errors = measure_ceiling(
        profile=config.profile, criteria=config.criteria, artifacts=artifacts, start=start
    )
    for key in APPS:
        if key in section:
            section[key]["artifacts_dir"] = f"{document['run_id']}/ceiling-{key}"
    document["ceiling"] = section
    document["errors"].extend(errors)
    for line in console_lines(finalise(document)):
        ui.console.print(f"  {line}")


def _link_latest(path: Path) -> None:
    latest = path.parent / "latest.json"
    latest.unlink(missing_ok=True)
    latest.symlink_to(path.name)


def measure_into(
    document: Json,
    config: RunConfig,
    *,
    key: str,
    repeat: int,
    artifacts: Path,
    fixed_rate: int | None,
) -> None:
    """Measure one layout run into the result document; record a failure and carry on."""
    layout = "after" if key == "after-aa" else key
    try:
        record = measure_layout(
            config,
            layout=layout,
            repeat=repeat,
            artifacts=artifacts / f"{key}-r{repeat + 1}",
            fixed_rate=fixed_rate,
            search_start=_search_start(config, document, layout),
        )
    except Exception as error:  # record the failure and measure what else can be measured
        ui.console.print(f"[red]{key} failed:[/] {error}")
        document["errors"].append(
            {
                "layout": key,
                "repeat": repeat,
                "error": repr(error)[:4000],
                "traceback": traceback.format_exc()[-8000:],
            }
        )
        return
    record["artifacts_dir"] = f"{document['run_id']}/{key}-r{repeat + 1}"
    document["layouts"].setdefault(key, []).append(record)
    if document["fixed_rate"] is None:  # before measured at its own sustainable rate
        document["fixed_rate"] = record["phases"]["fixed"]["target_rate"]
        document["fixed_rate_source"] = fixed_rate_source(record)


def fixed_rate_source(record: Json) -> str:
    """Name where the fixed load came from: the before layout's sustainable rate, or the floor."""
    if record["search"]["sustainable_rps"] >= record["phases"]["fixed"]["target_rate"]:
        return "before-sustainable"
    return "search minimum; before sustains none"
