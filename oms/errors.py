"""Domain errors with stable codes, mapped once to JSON:API errors and admin messages."""

from __future__ import annotations

import re


class DomainError(Exception):
    """A refused operation. `code` is stable and documented; `pointer` names the culprit."""

    code = "VALIDATION_ERROR"
    status = 422

    def __init__(self, detail: str, *, code: str | None = None, pointer: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.pointer = pointer


class TransitionNotAllowed(DomainError):
    code = "TRANSITION_NOT_ALLOWED"


# --- the same refusals in a merchant's words (the admin's messages) ---------------------------

# What a trigger does, as the end of "… can't be ___ now".
TRIGGER_WORDS = {
    "_pending": "made ready for checkout",
    "_place": "placed",
    "_approve": "approved",
    "_approve_and_capture": "approved and captured",
    "_capture": "captured",
    "_authorize": "authorized",
    "_void": "voided",
    "_refund": "refunded",
    "_cancel": "cancelled",
    "_archive": "archived",
    "_unarchive": "unarchived",
    "_fulfill": "marked fulfilled",
    "_start_editing": "edited",
    "_stop_editing": "saved after editing",
    "_upcoming": "made upcoming",
    "_on_hold": "put on hold",
    "_picking": "picked",
    "_packing": "packed",
    "_ready_to_ship": "made ready to ship",
    "_ship": "shipped",
    "_deliver": "marked delivered",
    "_request": "requested",
    "_reject": "rejected",
    "_receive": "marked received",
    "_restock": "restocked",
    "_create": "created",
}

_REFUSED = re.compile(
    r"^(?P<subject>.+?) is (?P<status>[\w ]+): (?P<trigger>_\w+) is not allowed\.?$"
)


def admin_message(error: DomainError) -> str:
    """A refusal as a merchant reads it: "Order #299 can't be shipped now: it is cancelled."
    rather than "_ship is not allowed". The stable code stays in the API's answer."""
    if isinstance(error, TransitionNotAllowed):
        refused = _REFUSED.match(error.detail)
        if refused:
            trigger = refused["trigger"]
            words = TRIGGER_WORDS.get(trigger, trigger.lstrip("_").replace("_", " "))
            status = refused["status"].replace("_", " ")
            return f"{refused['subject']} can't be {words} now: it is {status}."
    detail = error.detail
    for trigger in TRIGGER_WORDS:
        # "send _capture again when it is done" → "try again when it is done"
        detail = detail.replace(f"send {trigger} again", "try again")
    return detail
