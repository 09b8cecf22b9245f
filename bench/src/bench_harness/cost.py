"""The cost model, as pure functions of a run's `evidence.cost`: CPU-ms per request and the rate
the machine's cores predict.

Each request type ran alone at a fixed rate (cost_run.py); the CPU every process of the stack
used over that window (k6 apart), divided by the requests served, is its cost. The stack's idle
background (measured before, per second) times the window is the part no request caused: the
*net* cost leaves it out, and the prediction uses it, since at the sustainable rate that
background is spread over many more requests than in a short moderate-rate window.

    predicted RPS = cores / weighted net CPU-s per request
    predicted RPS, k6 on the same cores = cores / (weighted net CPU-s + k6's CPU-s per request)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Json = dict[str, Any]
# The stack's parts, in report order: the layout's web services, the Celery worker, PostgreSQL
# (the postmaster's whole tree: every backend) and Redis. Stand-ins for third parties (SMTP sink,
# webhook receiver) are recorded as `third_party`, outside the stack's total.
COMPONENTS = ("services", "worker", "postgres", "redis")


def effective_mix(weights: Mapping[str, float], only: list[str] | None = None) -> dict[str, float]:
    """Return each request type's share of the traffic (summing to 1).

    With ONLY, k6 draws uniformly among the listed types (lib/mix.js), whatever their weights.
    """
    if only:
        return {name: 1.0 / len(only) for name in only}
    total = sum(weights.values())
    return {name: weight / total for name, weight in weights.items() if weight} if total else {}


def _ms(seconds: float | None, requests: int) -> float | None:
    if seconds is None or requests <= 0:
        return None
    return seconds * 1000.0 / requests


def idle_rates(idle: Json | None) -> dict[str, float]:
    """Return each component's idle CPU in CPU-seconds per second (empty when not measured)."""
    if not idle or not idle.get("window_s"):
        return {}
    window = float(idle["window_s"])
    return {name: max(float(value), 0.0) / window for name, value in idle["cpu_s"].items()}


def type_cost(entry: Json, idle: Mapping[str, float]) -> Json:
    """Return one request type's CPU-ms per request: per component, stack total, net, k6."""
    requests = int(entry.get("requests") or 0)
    cpu = {name: entry["cpu_s"][name] for name in COMPONENTS if name in entry.get("cpu_s", {})}
    stack_s = sum(cpu.values())
    background_s = sum(idle.get(name, 0.0) for name in cpu) * float(entry.get("window_s") or 0)
    return {
        "requests": requests,
        "components_ms": {name: _ms(seconds, requests) for name, seconds in cpu.items()},
        "stack_ms": _ms(stack_s, requests) if cpu else None,
        "stack_net_ms": _ms(max(stack_s - background_s, 0.0), requests) if cpu else None,
        "k6_ms": _ms(entry.get("k6_cpu_s"), requests),
    }


def weighted(values: Mapping[str, float | None], mix: Mapping[str, float]) -> float | None:
    """Return the mix-weighted mean of per-type values (None when a type of the mix is missing)."""
    if not mix or any(values.get(name) is None for name in mix):
        return None
    return sum(float(values[name] or 0.0) * share for name, share in mix.items())


def predicted_rps(cores: float | None, cpu_ms: float | None, k6_ms: float = 0.0) -> float | None:
    """Return the rate at which the requests' CPU (plus k6's, if given) fills the cores."""
    if not cores or cpu_ms is None or cpu_ms + k6_ms <= 0:
        return None
    return float(cores) * 1000.0 / (cpu_ms + k6_ms)


def summarise_cost(cost: Json | None) -> Json | None:
    """Return per-type costs, the mix's weighted costs and the predicted rates of one run."""
    if not cost or not cost.get("types"):
        return None
    idle = idle_rates(cost.get("idle"))
    types = {name: type_cost(entry, idle) for name, entry in cost["types"].items()}
    mix = cost.get("mix") or {}

    def mixed(key: str) -> float | None:
        return weighted({name: found[key] for name, found in types.items()}, mix)

    components = {
        name: weighted(
            {kind: found["components_ms"].get(name) or 0.0 for kind, found in types.items()}, mix
        )
        for name in COMPONENTS
        if any(name in found["components_ms"] for found in types.values())
    }
    stack_net, k6 = mixed("stack_net_ms"), mixed("k6_ms")
    cores = cost.get("cores")
    return {
        "types": types,
        "mix": mix,
        "weighted": {
            "stack_ms": mixed("stack_ms"),
            "stack_net_ms": stack_net,
            "k6_ms": k6,
            "components_ms": components,
        },
        "cores": cores,
        "predicted_rps": predicted_rps(cores, stack_net),
        "predicted_rps_with_k6": predicted_rps(cores, stack_net, k6 or 0.0),
        "idle_cpu_percent": {name: rate * 100 for name, rate in idle.items()},
    }


def weighted_cost_ms(run: Json) -> float | None:
    """Return a run's mix-weighted net stack CPU-ms per request (a figure of figures.py)."""
    summary = summarise_cost((run.get("evidence") or {}).get("cost"))
    return None if summary is None else summary["weighted"]["stack_net_ms"]


def predicted_from_run(run: Json) -> float | None:
    """Return a run's predicted sustainable rate, cores / weighted net CPU (figures.py)."""
    summary = summarise_cost((run.get("evidence") or {}).get("cost"))
    return None if summary is None else summary["predicted_rps"]
