"""`python -m bench backoffice`: an integration approving, capturing and shipping placed
orders (approve, capture, the shipments, picking → packing → ready → ship), 8 clients."""

from __future__ import annotations

from typing import Any

from bench import common, flows


def main(argv: list[str]) -> int:
    parser = common.arguments(__doc__ or "", clients="8", rounds=3)
    parser.add_argument("--per-round", type=int, default=60, help="orders per round")
    args = parser.parse_args(argv)
    counts = common.client_counts(args.clients)
    oms_url, config = common.prepare_oms()
    orders = common.build_orders(
        oms_url, config, args.per_round * args.rounds * len(counts), placed=True
    )
    figures: dict[str, Any] = {}
    with common.oms_server(oms_url, workers=args.workers) as oms:
        office = common.token(oms.url, config["integration"])
        for clients in counts:
            figure = common.Figure("back office")
            for _ in range(args.rounds):
                batch, orders = orders[: args.per_round], orders[args.per_round :]
                figure.rounds.append(
                    common.load(
                        oms,
                        clients,
                        common.draining(
                            lambda i: common.Client(oms.url, office), flows.back_office
                        ),
                        work=batch,
                        count=common.counting("PATCH shipments _ship"),
                    )
                )
            figures[f"approve + capture + ship, {clients} clients"] = figure.summary()
    common.report(
        "backoffice: approve, capture and ship placed orders",
        figures,
        {},
        args.json,
        notes=[f"{args.workers} gunicorn workers, sync; one op = one order"],
    )
    return 0
