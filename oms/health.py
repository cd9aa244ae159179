"""Health endpoints for load balancers and orchestrators; no authentication, no sessions.

/healthz  liveness: the process answers (never touches the database)
/readyz   readiness: every configured database answers and has no unapplied migrations, so a
          node that cannot serve is taken out of rotation instead of answering 500s
"""

from __future__ import annotations

import time

from django.db import DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

_migrations_checked: set[str] = set()  # once all are applied, a process need not look again


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, dict[str, object]] = {}
    ready = True
    for alias in connections:
        started = time.perf_counter()
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            pending = 0 if alias in _migrations_checked or alias != "default" else _pending(alias)
        except DatabaseError as error:
            checks[alias] = {"status": "unavailable", "error": error.__class__.__name__}
            ready = False
            continue
        if pending:
            checks[alias] = {"status": "migrations pending", "pending": pending}
            ready = False
            continue
        _migrations_checked.add(alias)
        checks[alias] = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "databases": checks},
        status=200 if ready else 503,
    )


def _pending(alias: str) -> int:
    executor = MigrationExecutor(connections[alias])
    return len(executor.migration_plan(executor.loader.graph.leaf_nodes()))
