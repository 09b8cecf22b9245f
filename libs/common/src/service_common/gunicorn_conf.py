"""Gunicorn settings of every after-layout service (`-c python:service_common.gunicorn_conf`).

Uvicorn workers with uvloop and httptools; sized from the CPU count unless WEB_CONCURRENCY says.
Timeouts line up with the orchestrators: k8s waits terminationGracePeriodSeconds (35 s) > 30 s.
"""

import os

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
