"""Fixed-window rate limits shared by every server process.

A hit increments the counter of its key for the current window in one atomic statement: an
upsert of `oms.RateLimitWindow` (PostgreSQL and SQLite: `INSERT … ON CONFLICT DO UPDATE …
RETURNING`), or Redis `INCR` when the default cache is Redis (`REDIS_URL`). Nothing is counted in
one process's memory, so four gunicorn workers allow what one would, not four times as much.
A fixed window lets a client spend its allowance at the end of one window and again at the start
of the next (at most twice the rate over any window-long span); that is the usual trade for one
statement per hit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from oms.models import RateLimitWindow

clock = time.time  # tests pin it to a fixed instant: a window boundary mid-test is not flaky
KEEP_WINDOWS = 2  # rows of windows older than this many lengths are deleted on a window's 1st hit


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    hits: int
    wait: float  # seconds until the window ends


PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "100/min" → (100, 60): DRF's notation, a count per second, minute, hour or day."""
    count, _, period = rate.partition("/")
    try:
        return int(count), PERIODS[period.strip()[:1].lower()]
    except (ValueError, KeyError):
        raise ValueError(f"not a rate: {rate!r} (expected N/s, N/min, N/hour or N/day)") from None


def uses_redis() -> bool:
    return "redis" in settings.CACHES["default"]["BACKEND"].lower()


def rate_limit_hit(key: str, *, limit: int, window: int, now: float | None = None) -> RateDecision:
    """Count one hit of `key`; allowed while the window's hits are at most `limit`."""
    now = clock() if now is None else now
    window_start = int(now // window) * window
    hits = _redis_hit(key, window_start, window) if uses_redis() else _db_hit(key, window_start)
    if hits == 1 and not uses_redis():
        RateLimitWindow.objects.filter(
            window_start__lt=window_start - KEEP_WINDOWS * window
        ).delete()
    return RateDecision(allowed=hits <= limit, hits=hits, wait=window_start + window - now)


def _redis_hit(key: str, window_start: int, window: int) -> int:
    cache_key = f"ratelimit:{key}:{window_start}"
    cache.add(cache_key, 0, timeout=window * KEEP_WINDOWS)  # SET NX with expiry
    return int(cache.incr(cache_key))


def _db_hit(key: str, window_start: int) -> int:
    q = connection.ops.quote_name
    table, k, start, hits = (
        q(RateLimitWindow._meta.db_table),
        q("key"),
        q("window_start"),
        q("hits"),
    )
    sql = (
        f"INSERT INTO {table} ({k}, {start}, {hits}) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT ({k}, {start}) DO UPDATE SET {hits} = {table}.{hits} + 1 RETURNING {hits}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, window_start])
        row = cursor.fetchone()
    return int(row[0])
