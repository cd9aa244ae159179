"""`python -m bench get-order`: GET an order with `include=line_items,shipments,authorizations`
(an integration's token) against the baseline's bare GET of an order and its 3 lines, timed
rounds interleaved, 8 clients by default."""

from __future__ import annotations

import random
from typing import Any

from bench import common, flows


def main(argv: list[str]) -> int:
    parser = common.arguments(__doc__ or "", clients="8", rounds=3, seconds=8.0)
    parser.add_argument("--orders", type=int, default=40, help="placed orders to read")
    args = parser.parse_args(argv)
    oms_url, config = common.prepare_oms()
    orders = common.build_orders(oms_url, config, args.orders, placed=True)
    base_url = common.prepare_baseline()
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    with (
        common.oms_server(oms_url, workers=args.workers) as oms,
        common.baseline_server(base_url, workers=args.workers) as base,
    ):
        office = common.token(oms.url, config["integration"])
        seeder = common.Client(base.url)
        base_orders = [flows.baseline_place(seeder) for _ in range(args.orders)]
        for clients in common.client_counts(args.clients):
            mine, yardstick = common.Figure("get"), common.Figure("baseline get")
            for _ in range(args.rounds):
                yardstick.rounds.append(
                    common.load(
                        base,
                        clients,
                        common.timed(
                            args.seconds,
                            lambda i: common.Client(base.url),
                            lambda c, n: flows.baseline_get(c, random.choice(base_orders)),
                        ),
                        count=common.counting("GET order (baseline)"),
                    )
                )
                mine.rounds.append(
                    common.load(
                        oms,
                        clients,
                        common.timed(
                            args.seconds,
                            lambda i: common.Client(oms.url, office),
                            lambda c, n: flows.get_order(c, random.choice(orders)),
                        ),
                        count=common.counting("GET order (includes)"),
                    )
                )
            figures[f"GET order with includes, {clients} clients"] = mine.summary()
            figures[f"baseline GET, {clients} clients"] = yardstick.summary()
            ratios[f"GET order / baseline GET, {clients} clients (target >= 0.5)"] = common.ratio(
                mine.summary(), yardstick.summary()
            )
    common.report(
        "get-order: GET /api/orders/:id?include=" + flows.ORDER_INCLUDE,
        figures,
        ratios,
        args.json,
        notes=[
            f"{args.workers} gunicorn workers each, sync; PostgreSQL; "
            f"{args.rounds} rounds of {args.seconds:g} s"
        ],
    )
    return 0
