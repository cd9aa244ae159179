"""The demo dataset on top of the catalog (`markets.demo`), for `python manage.py seed_demo`.

It lives in `orders` because only this app may call into every other app's services:

| module | seeds |
|---|---|
| `inventory` | stock locations, inventory models and stock items of every market |
| `shipping` | shipping zones and methods (flat, weight tiered, free over an amount) |
| `payment_methods` | payment gateways (manual, test, external) and each market's methods |
| `customers` | a dozen customers with an address book, spread over the markets |
| `promotions` | live promotions and coupons, active gift cards, the US market's sales taxes |
| `orders` | a few hundred orders in every state, built only through the services |
| `returns` | a few returns of fulfilled demo orders: requested, received, refunded |

Every row is looked up (by code, or by `reference` with `reference_origin="seed_demo"`) before
it is created, so running the command twice leaves the same data.
"""

from oms.actors import Actor

SEED_ACTOR = Actor(kind="system", name="seed_demo")
