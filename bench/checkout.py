"""`python -m bench checkout`: N storefront clients each running the whole checkout as the SDK
sends it (create order, 3 line items, address, the order's addresses and payment method, its
shipments with their shipping methods, a shipping method per shipment, a card, `_place`), at 1,
8 and 16 clients: checkouts per second and p50/p95/p99 per endpoint."""

from __future__ import annotations

from typing import Any

from bench import common, flows

TARGET_RATE = 10.0
TARGET_P99_MS = 250.0


def measure(
    server: common.Server, config: dict[str, Any], clients: int, rounds: int, seconds: float
) -> dict[str, Any]:
    sc_token = common.token(server.url, config["sales_channel"], scope="market:code:eu")
    figure = common.Figure("checkout")
    for _ in range(rounds):
        figure.rounds.append(
            common.load(
                server,
                clients,
                common.timed(
                    seconds,
                    lambda i: common.Client(server.url, sc_token),
                    lambda c, n: flows.checkout(c, config, n),
                ),
                count=common.counting("PATCH orders _place"),
            )
        )
    return figure.summary()


def worst_p99(figure: dict[str, Any]) -> float:
    return max((e["p99_ms"] for e in figure["endpoints"].values()), default=0.0)


def main(argv: list[str]) -> int:
    parser = common.arguments(__doc__ or "", clients="1,8,16", rounds=3, seconds=10.0)
    args = parser.parse_args(argv)
    oms_url, config = common.prepare_oms()
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    with common.oms_server(oms_url, workers=args.workers) as oms:
        for clients in common.client_counts(args.clients):
            figure = measure(oms, config, clients, args.rounds, args.seconds)
            figures[f"checkout, {clients} clients"] = figure
            ratios[f"checkouts/s at {clients} clients (target >= {TARGET_RATE:g} at 8)"] = figure[
                "rate_per_s"
            ]
            ratios[f"worst endpoint p99 ms at {clients} clients (target < {TARGET_P99_MS:g})"] = (
                worst_p99(figure)
            )
    common.report(
        "checkout: whole storefront checkouts",
        figures,
        ratios,
        args.json,
        notes=[
            f"{args.workers} gunicorn workers, sync; PostgreSQL; "
            f"{args.rounds} rounds of {args.seconds:g} s"
        ],
    )
    return 0
