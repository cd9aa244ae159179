"""`python -m bench lists`: filtered, sorted order lists of an integration (placed newest
first, by customer e-mail, authorized page 2), timed rounds, 8 clients. For a million orders
see `python -m bench million`."""

from __future__ import annotations

from typing import Any

from bench import common, flows


def main(argv: list[str]) -> int:
    parser = common.arguments(__doc__ or "", clients="8", rounds=3, seconds=8.0)
    parser.add_argument("--orders", type=int, default=120, help="placed orders in the database")
    args = parser.parse_args(argv)
    oms_url, config = common.prepare_oms()
    common.build_orders(oms_url, config, args.orders, placed=True)
    figures: dict[str, Any] = {}
    with common.oms_server(oms_url, workers=args.workers) as oms:
        office = common.token(oms.url, config["integration"])
        for clients in common.client_counts(args.clients):
            figure = common.Figure("lists")
            for _ in range(args.rounds):
                figure.rounds.append(
                    common.load(
                        oms,
                        clients,
                        common.timed(
                            args.seconds,
                            lambda i: common.Client(oms.url, office),
                            flows.order_lists,
                        ),
                        count=lambda samples: sum(1 for s in samples if s[2] < 400),
                    )
                )
            figures[f"order lists, {clients} clients"] = figure.summary()
    common.report(
        "lists: filtered, sorted order lists",
        figures,
        {},
        args.json,
        notes=[f"{args.orders} placed orders; {args.workers} gunicorn workers"],
    )
    return 0
