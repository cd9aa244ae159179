"""`python -m bench <name> [options]`: run the benchmark module `bench/<name>.py` (dashes become
underscores), e.g. `python -m bench checkout --clients 1,8,16`."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def available() -> list[str]:
    here = Path(__file__).parent
    return sorted(
        info.name.replace("_", "-")
        for info in pkgutil.iter_modules([str(here)])
        if not info.name.startswith("_") and info.name not in {"common", "baseline"}
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        print("benchmarks:", ", ".join(available()) or "none")
        return 0 if argv else 2
    name = argv[0]
    if name not in available():
        print(f"unknown benchmark {name!r}; one of: {', '.join(available())}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{name.replace('-', '_')}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
