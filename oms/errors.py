"""Domain errors with stable codes, mapped once to JSON:API errors and admin messages."""

from __future__ import annotations


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
