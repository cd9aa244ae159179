"""`python -m bench scale`: the checkout benchmark with 1, 2 and 4 app processes against one
PostgreSQL (8 clients), and the token rate limit holding across the processes: with a limit of
N per client, 4 x N concurrent token requests get exactly N tokens whatever the process count."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench import common
from bench.checkout import measure, worst_p99

TOKEN_LIMIT = 10


def token_burst(server: common.Server, credentials: dict[str, str]) -> int:
    def ask(_: int) -> int:
        client = common.Client(server.url)
        body = {"grant_type": "client_credentials", **credentials}
        return client.request("token", "POST", "/oauth/token", body, "application/json")[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(ask, range(4 * TOKEN_LIMIT))).count(200)


def main(argv: list[str]) -> int:
    parser = common.arguments(__doc__ or "", clients="8", rounds=2, seconds=10.0)
    parser.add_argument("--processes", default="1,2,4", help="app process counts")
    args = parser.parse_args(argv)
    (clients,) = common.client_counts(args.clients)[:1]
    oms_url, config = common.prepare_oms()
    figures: dict[str, Any] = {}
    ratios: dict[str, float] = {}
    one = 0.0
    for processes in common.client_counts(args.processes):
        extra = {"OMS_TOKEN_RATE_PER_CLIENT": f"{TOKEN_LIMIT}/hour"}
        with _server(oms_url, processes, extra) as oms:
            # an integration of its own: the counters outlive a server (they are shared)
            granted = token_burst(
                oms, common.new_integration(url=oms_url, name=f"burst {processes}")
            )
            figure = measure(oms, config, clients, args.rounds, args.seconds)
        figure["tokens_granted_of_limit"] = f"{granted}/{TOKEN_LIMIT}"
        figures[f"checkout, {processes} app processes"] = figure
        one = one or figure["rate_per_s"]
        ratios[f"{processes} processes / 1 process"] = round(figure["rate_per_s"] / one, 2)
        ratios[f"tokens granted by {processes} processes (limit {TOKEN_LIMIT})"] = granted
        ratios[f"worst p99 ms, {processes} processes"] = worst_p99(figure)
    common.report(
        "scale: checkout against one PostgreSQL by app process count",
        figures,
        ratios,
        args.json,
        notes=[
            f"{clients} clients; on 2 cores, processes past the core count add concurrency, not CPU"
        ],
    )
    return 0


def _server(url: str, processes: int, extra: dict[str, str]) -> Any:
    port = common.free_port()
    env = common.production_env(
        url,
        OMS_BIND=f"127.0.0.1:{port}",
        OMS_WEB_WORKERS=str(processes),
        OMS_WEB_THREADS="1",
        OMS_SKIP_PREPARE="1",
        **extra,
    )
    return common.server(f"oms-{processes}", ["bin/serve"], env, port)
