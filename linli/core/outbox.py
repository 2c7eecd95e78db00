"""The outbox: work that must happen after a change commits, and survive restarts.

``enqueue()`` is called inside an action's transaction, so the message exists exactly when the
change does. ``linli worker`` runs ``claim()`` and ``process()`` in a loop.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from linli.core.models import OutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that carries out messages of ``kind``."""

    def register(func: Handler) -> Handler:
        HANDLERS[kind] = func
        return func

    return register


def enqueue(kind: str, payload: dict[str, Any], *, delay: timedelta | None = None) -> OutboxMessage:
    if kind not in HANDLERS:
        raise ValueError(f"no outbox handler for {kind!r}")
    return OutboxMessage.objects.create(
        kind=kind, payload=payload, available_at=timezone.now() + (delay or timedelta())
    )


def claim(worker_id: str, limit: int = 20) -> list[OutboxMessage]:
    """Take up to ``limit`` due messages for this worker.

    Each row is taken by a conditional UPDATE that only succeeds if the row is still unclaimed (or
    its claim is stale) — so among any number of workers, exactly one wins each row.
    """
    now = timezone.now()
    stale = now - LEASE
    due = Q(done_at__isnull=True, failed_at__isnull=True, available_at__lte=now)
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=stale)
    candidates = list(
        OutboxMessage.objects.filter(due & free)
        .order_by("available_at", "id")
        .values_list("id", "claimed_at")[: limit * 2]
    )
    taken: list[int] = []
    for message_id, seen_claim in candidates:
        if len(taken) >= limit:
            break
        won = OutboxMessage.objects.filter(pk=message_id, claimed_at=seen_claim, done_at=None)
        if seen_claim is None:
            won = OutboxMessage.objects.filter(pk=message_id, claimed_at__isnull=True, done_at=None)
        if won.update(claimed_at=now, claimed_by=worker_id[:64]) == 1:
            taken.append(message_id)
    return list(OutboxMessage.objects.filter(pk__in=taken).order_by("available_at", "id"))


def process(message: OutboxMessage) -> bool:
    """Run one claimed message. On failure it is retried later with a growing delay."""
    func = HANDLERS.get(message.kind)
    now = timezone.now()
    try:
        if func is None:
            raise LookupError(f"no handler for {message.kind!r}")
        func(message.payload)
    except Exception as exc:
        attempts = message.attempts + 1
        log.warning(
            "outbox %s #%s failed (attempt %s): %s", message.kind, message.pk, attempts, exc
        )
        fields: dict[str, Any] = {
            "attempts": attempts,
            "claimed_at": None,
            "claimed_by": "",
            "last_error": "".join(traceback.format_exception(exc))[-4000:],
            "available_at": now + timedelta(seconds=min(2**attempts * 5, 3600)),
        }
        if attempts >= MAX_ATTEMPTS:
            fields["failed_at"] = now
        OutboxMessage.objects.filter(pk=message.pk, claimed_by=message.claimed_by).update(**fields)
        return False
    # Delivery is at least once: if this worker's lease ran out and another took the message, both
    # may run it, so handlers must be safe to repeat.
    OutboxMessage.objects.filter(pk=message.pk).update(done_at=now, attempts=message.attempts + 1)
    return True


def run_once(worker_id: str, limit: int = 20) -> int:
    done = 0
    for message in claim(worker_id, limit):
        done += process(message)
    return done
