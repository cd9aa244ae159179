"""`python -m bench profile`: one operation profiled in-process, on a scratch database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_profiling_a_get_prints_the_profile_its_time_and_its_statements(tmp_path: Path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OMS_", "DJANGO_")) and key != "DEBUG"
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'profile.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "profile", "get-order", "--n", "3", "--sql"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("get-order: "), last
    assert last.endswith(" SQL statements"), last
    assert "pyinstrument" in done.stdout or "Recorded:" in done.stdout
    assert " ms  SELECT" in done.stdout  # --sql: the statements of one run
