"""What the ops commands share: the progress bar and the one-line failure reason.

The bar is tqdm on the command's stderr, shown only when stderr is a terminal (a cron job's
log or a test's buffer gets no bar, only the command's summary line) and never with
`--verbosity 0`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.core.management.base import OutputWrapper
from tqdm import tqdm


def progress[T](
    items: Iterable[T], *, total: int | None, desc: str, stream: Any, verbosity: int = 1
) -> Iterator[T]:
    """`items`, with a progress bar of `total` steps on `stream` (a command's `self.stderr`)."""
    # OutputWrapper ends every write with a newline: tqdm redraws its line with "\r".
    target = stream._out if isinstance(stream, OutputWrapper) else stream
    yield from tqdm(
        items,
        total=total,
        desc=desc,
        file=target,
        unit="",
        leave=False,
        dynamic_ncols=True,
        disable=True if verbosity < 1 else None,  # None: only on a terminal
    )


def counter(*, desc: str, stream: Any, verbosity: int = 1) -> tqdm[Any]:
    """A progress counter with no known total (`.update(n)` as work is done; close it)."""
    target = stream._out if isinstance(stream, OutputWrapper) else stream
    return tqdm(
        total=None,
        desc=desc,
        file=target,
        unit=" orders",
        leave=False,
        dynamic_ncols=True,
        disable=True if verbosity < 1 else None,
    )


def one_line(exc: BaseException) -> str:
    """An exception as one line, for a summary or a CommandError (database errors often
    span several lines)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
