"""`python -m bench all [--quick]`: every benchmark in turn (place, get-order, checkout,
backoffice, lists, scale), each printing its figures; `--json DIR` writes one file each.
`--quick` runs short rounds (a smoke run, not figures to quote)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench import backoffice, checkout, get_order, lists, place, scale

QUICK = {
    "place": ["--per-round", "40", "--rounds", "1"],
    "get-order": ["--seconds", "3", "--rounds", "1", "--orders", "10"],
    "checkout": ["--clients", "1,8", "--seconds", "4", "--rounds", "1"],
    "backoffice": ["--per-round", "16", "--rounds", "1"],
    "lists": ["--seconds", "3", "--rounds", "1", "--orders", "30"],
    "scale": ["--processes", "1,2", "--seconds", "4", "--rounds", "1"],
}
MODULES = {
    "place": place,
    "get-order": get_order,
    "checkout": checkout,
    "backoffice": backoffice,
    "lists": lists,
    "scale": scale,
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench all", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", metavar="DIR")
    args = parser.parse_args(argv)
    for name, module in MODULES.items():
        extra = list(QUICK[name]) if args.quick else []
        if args.json:
            Path(args.json).mkdir(parents=True, exist_ok=True)
            extra += ["--json", str(Path(args.json) / f"{name}.json")]
        code = module.main(extra)
        if code:
            return code
    return 0
