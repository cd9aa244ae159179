"""gunicorn's configuration for production: `bin/serve` (or `gunicorn -c oms/gunicorn.conf.py
oms.wsgi`). Every value can be set from the environment; see docs/deploy.md.

Workers: OMS_WEB_WORKERS, default 2 x cores + 1, each with OMS_WEB_THREADS threads (default 2): a
thread waiting on a payment gateway (at most OMS_GATEWAY_TIMEOUT_SECONDS) leaves the others
serving. A worker silent for longer than the timeout is killed and replaced; a request holding a
row lock can never last that long (no gateway call runs under a lock).
"""

from __future__ import annotations

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


bind = os.environ.get("OMS_BIND", "127.0.0.1:8000").split(",")
workers = _int("OMS_WEB_WORKERS", 2 * multiprocessing.cpu_count() + 1)
threads = _int("OMS_WEB_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"
# Longer than the longest request (a gateway call's deadline plus its transactions).
timeout = _int("OMS_WEB_TIMEOUT", 30)
graceful_timeout = _int("OMS_WEB_GRACEFUL_TIMEOUT", 30)  # SIGTERM/SIGHUP: finish requests first
keepalive = _int("OMS_WEB_KEEPALIVE", 5)
# Recycle workers now and then (jittered, so not all at once): a slow leak cannot grow forever.
max_requests = _int("OMS_WEB_MAX_REQUESTS", 5000)
max_requests_jitter = max_requests // 10
# Load the app once, before forking: a broken release fails at start, not per worker, and the
# workers share the imported code's memory. No connection is opened at import time.
preload_app = True
# Honour X-Forwarded-* only from these addresses (the load balancer's).
forwarded_allow_ips = os.environ.get("OMS_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("OMS_ACCESS_LOG", "-") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("OMS_LOG_LEVEL", "info")
proc_name = "oms"
# Worker heartbeat files in RAM, not on a possibly slow disk.
# gunicornc's control socket only when asked for: several servers on one machine would share its path.
control_socket = os.environ.get("OMS_CONTROL_SOCKET", "") or "gunicorn.ctl"
control_socket_disable = not os.environ.get("OMS_CONTROL_SOCKET")
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
