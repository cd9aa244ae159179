"""Public identifiers: random, unguessable, never the database's sequence.

A sales-channel client may read an order by id, so ids carry 10 base62 characters
(about 59.5 bits) plus two more for headroom: 12 characters, about 71 bits.
"""

import secrets
import string

ALPHABET = string.ascii_letters + string.digits
PUBLIC_ID_LENGTH = 12


def new_public_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PUBLIC_ID_LENGTH))
