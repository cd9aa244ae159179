"""`python -m bench place`: `_place` of pre-built 3-line carts against the baseline's bare
placement transaction, interleaved round by round, 8 clients by default. Headline: the ratio of
placements per second, with server CPU per placement."""

from __future__ import annotations

from typing import Any

from bench import common, flows


def main(argv: list[str]) -> int:
    parser = common.arguments(__doc__ or "", clients="8", rounds=3)
    parser.add_argument("--per-round", type=int, default=150, help="placements per round")
    args = parser.parse_args(argv)
    counts = common.client_counts(args.clients)
    oms_url, config = common.prepare_oms()
    carts = common.build_orders(
        oms_url, config, args.per_round * args.rounds * len(counts), placed=False
    )
    base_url = common.prepare_baseline()
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    with (
        common.oms_server(oms_url, workers=args.workers) as oms,
        common.baseline_server(base_url, workers=args.workers) as base,
    ):
        sc_token = common.token(oms.url, config["sales_channel"], scope="market:code:eu")

        def ours(index: int) -> common.Client:
            return common.Client(oms.url, sc_token)

        def theirs(index: int) -> common.Client:
            return common.Client(base.url)

        for clients in counts:
            mine, yardstick = common.Figure("place"), common.Figure("baseline place")
            for _ in range(args.rounds):
                yardstick.rounds.append(
                    common.load(
                        base,
                        clients,
                        common.draining(theirs, lambda c, _: flows.baseline_place(c)),
                        work=list(range(args.per_round)),
                        count=common.counting("POST place (baseline)"),
                    )
                )
                batch, carts = carts[: args.per_round], carts[args.per_round :]
                mine.rounds.append(
                    common.load(
                        oms,
                        clients,
                        common.draining(ours, flows.place_order),
                        work=batch,
                        count=common.counting("PATCH orders _place"),
                    )
                )
            figures[f"_place, {clients} clients"] = mine.summary()
            figures[f"baseline placement, {clients} clients"] = yardstick.summary()
            ratios[f"_place / baseline placement, {clients} clients (target >= 0.33)"] = (
                common.ratio(mine.summary(), yardstick.summary())
            )
    common.report(
        "place: _place of a 3-line order vs the bare placement transaction",
        figures,
        ratios,
        args.json,
        notes=[
            f"{args.workers} gunicorn workers each, sync; PostgreSQL; "
            f"{args.per_round} placements per round, {args.rounds} rounds"
        ],
    )
    return 0
