"""A task for the worker tests: it appends its number to the file OMS_TASK_PROBE_FILE names (one
short O_APPEND write per run, so lines of concurrent runs never mix) and takes a moment, so
concurrent workers overlap."""

from __future__ import annotations

import os
import time

from django.tasks import task


@task()
def probe(number: int) -> int:
    with open(os.environ["OMS_TASK_PROBE_FILE"], "a", encoding="ascii") as runs:
        # the process, and its parent (an RQ worker runs each task in a child of its own)
        runs.write(f"{number} {os.getpid()} {os.getppid()}\n")
    time.sleep(0.02)
    return number
