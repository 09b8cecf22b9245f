"""Gunicorn settings of every after-layout service (`-c python:service_common.gunicorn_conf`).

Uvicorn workers with uvloop and httptools; sized from the CPU count unless WEB_CONCURRENCY says.
Timeouts line up with the orchestrators: k8s waits terminationGracePeriodSeconds (35 s) > 30 s.

Metrics: with PROMETHEUS_MULTIPROC_DIR set, every worker writes its metrics to files there and
/metrics adds them up (service_common.observability). The master empties the directory once, as
the service starts and before any worker forks (`on_starting`; the preloaded app imported the
metrics before it, hence the directory is created here), and marks each exited worker dead
(`child_exit`): its live gauges are dropped, its counters and histograms stay in the sums, folded
into one file per kind with those of the workers that exited before.
"""

import os
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

_cores = os.cpu_count() or 1

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", _cores))
worker_class = "uvicorn_worker.UvicornWorker"  # uvloop + httptools when installed ("auto")
# Import the app once in the master: workers share its pages (nothing connects at import).
preload_app = True
max_requests = int(os.environ.get("MAX_REQUESTS", 20_000))  # recycle slow leaks ...
max_requests_jitter = max_requests // 10  # ... without restarting every worker at once
graceful_timeout = 30  # finish in-flight requests on SIGTERM
timeout = 60  # a worker silent this long is stuck, not busy
keepalive = 5  # a bit above the peers' idle pool timeout, so they close first
backlog = int(os.environ.get("BACKLOG", 2048))  # connections waiting for accept() before refusal
accesslog = None  # access logs cost ~10% at this scale; metrics carry the same signal
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
proc_name = os.environ.get("SERVICE_NAME", "service")

# prometheus_client reads the same variable when it is imported (in the master: preload_app).
_metrics_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
_mark_process_dead: Any = multiprocess.mark_process_dead  # unannotated in prometheus_client
if _metrics_dir:
    # Exists before the app is preloaded: its metrics open their files at import.
    Path(_metrics_dir).mkdir(parents=True, exist_ok=True)


def on_starting(server: Any) -> None:
    """Start from no metrics: drop a previous run's files (the master's own, made at preload,
    hold only zeros). Once per master, not on a HUP reload (whose workers keep counting)."""
    if _metrics_dir:
        for stale in Path(_metrics_dir).glob("*.db"):  # only prometheus_client's files
            stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker exited (recycled, crashed, killed): drop its live gauges, keep its counts, folded
    with those of the workers that exited before it (so its files do not pile up)."""
    if _metrics_dir:
        # Imported here: at the top it would open the metrics' files before the mkdir above.
        from service_common.observability import fold_dead_files

        try:
            _mark_process_dead(worker.pid, _metrics_dir)
            fold_dead_files(_metrics_dir)
        except Exception:  # noqa: BLE001 - bookkeeping must never take the master down
            server.log.exception("metrics files of worker %s: bookkeeping failed", worker.pid)
