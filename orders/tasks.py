"""Background tasks of the orders app (`django.tasks`). They only call services; each task is
declared beside the workflow it finishes, and listed here."""

from __future__ import annotations

from orders.services.placement import order_place_task

__all__ = ["order_place_task"]
