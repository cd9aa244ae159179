"""Benchmarks: `python -m bench <name> [options]` (see docs/performance.md).

Each benchmark is a module of this package with a `main(argv) -> int`; load runs on 127.0.0.1
against the shipped production server and prints text and JSON. Nothing here is imported by the
product.
"""
