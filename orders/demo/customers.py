"""The demo customers: a dozen people, each with an address in their market's country."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from markets.demo import address_upsert
from markets.models import Address
from orders.models import Customer
from orders.services import customer_address_create, customer_find_or_create


@dataclass(frozen=True)
class DemoCustomer:
    market: str
    first_name: str
    last_name: str
    line_1: str
    city: str
    zip_code: str
    state_code: str
    country_code: str
    phone: str

    @property
    def email(self) -> str:
        name = f"{self.first_name}.{self.last_name}".lower().replace(" ", "")
        ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
        return f"{ascii_name}@example.com"


CUSTOMERS = [
    DemoCustomer("eu", "Sanne", "de Vries", "Prinsengracht 263", "Amsterdam", "1016 GV", "NH", "NL", "+31 6 5550 1234"),
    DemoCustomer("eu", "Lukas", "Schmidt", "Schönhauser Allee 36", "Berlin", "10435", "BE", "DE", "+49 151 5550 2345"),
    DemoCustomer("eu", "Camille", "Martin", "12 rue des Rosiers", "Paris", "75004", "", "FR", "+33 6 55 50 34 56"),
    DemoCustomer("eu", "Giulia", "Rossi", "Via dei Serpenti 48", "Roma", "00184", "RM", "IT", "+39 333 555 4567"),
    DemoCustomer("eu", "Javier", "García", "Calle de Cervantes 9", "Madrid", "28014", "M", "ES", "+34 655 550 678"),
    DemoCustomer("us", "Emily", "Johnson", "742 Evergreen Terrace", "Springfield", "62704", "IL", "US", "+1 217 555 0142"),
    DemoCustomer("us", "Michael", "Brown", "1600 Pearl Street", "Boulder", "80302", "CO", "US", "+1 303 555 0187"),
    DemoCustomer("us", "Olivia", "Davis", "88 Mission Street", "San Francisco", "94105", "CA", "US", "+1 415 555 0133"),
    DemoCustomer("us", "James", "Wilson", "15 Beacon Street", "Boston", "02108", "MA", "US", "+1 617 555 0176"),
    DemoCustomer("uk", "Amelia", "Taylor", "22 Portobello Road", "London", "W11 3DH", "", "GB", "+44 7700 900123"),
    DemoCustomer("uk", "Oliver", "Evans", "5 Deansgate", "Manchester", "M3 2BW", "", "GB", "+44 7700 900456"),
    DemoCustomer("uk", "Isla", "Campbell", "17 Royal Mile", "Edinburgh", "EH1 1RE", "", "GB", "+44 7700 900789"),
]  # fmt: skip


def customer_address_of(person: DemoCustomer) -> Address:
    """The customer's home address (the one in their address book), found by reference."""
    return address_upsert(
        f"customer-{person.email}",
        {
            "first_name": person.first_name,
            "last_name": person.last_name,
            "line_1": person.line_1,
            "city": person.city,
            "zip_code": person.zip_code,
            "state_code": person.state_code,
            "country_code": person.country_code,
            "phone": person.phone,
            "email": person.email,
        },
    )


def customers_seed() -> list[str]:
    """The customers, found or created by e-mail, each with their home in the address book."""
    for person in CUSTOMERS:
        customer = customer_find_or_create(email=person.email)
        customer_address_create(customer=customer, address=customer_address_of(person))
    return [f"{Customer.objects.count()} customers"]
