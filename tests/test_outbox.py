"""The outbox: each message is run once, by one worker, and survives a crash."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from linli.core import outbox
from linli.core.models import OutboxMessage

RAN: list[dict] = []


@outbox.handler("test.record")
def _record(payload: dict) -> None:
    RAN.append(payload)


@outbox.handler("test.fail")
def _fail(payload: dict) -> None:
    raise RuntimeError("the printer is out of paper")


@pytest.fixture(autouse=True)
def _clear():
    RAN.clear()


@pytest.mark.django_db
def test_unknown_kind_is_refused_at_enqueue():
    with pytest.raises(ValueError):
        outbox.enqueue("no.such.kind", {})


@pytest.mark.django_db
def test_a_message_runs_once_and_is_marked_done():
    message = outbox.enqueue("test.record", {"n": 1})
    assert outbox.run_once("w1") == 1
    assert outbox.run_once("w1") == 0
    message.refresh_from_db()
    assert message.done_at is not None and RAN == [{"n": 1}]


@pytest.mark.django_db
def test_two_workers_never_claim_the_same_message():
    for n in range(10):
        outbox.enqueue("test.record", {"n": n})
    first = outbox.claim("w1", limit=6)
    second = outbox.claim("w2", limit=10)
    assert len(first) == 6 and len(second) == 4
    assert not {m.pk for m in first} & {m.pk for m in second}


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_in_threads_share_out_the_messages():
    for n in range(40):
        outbox.enqueue("test.record", {"n": n})
    claimed: dict[str, list[int]] = {}
    errors: list[Exception] = []

    def work(name: str) -> None:
        try:
            ids: list[int] = []
            while batch := outbox.claim(name, limit=3):
                ids.extend(m.pk for m in batch)
            claimed[name] = ids
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    all_ids = [pk for ids in claimed.values() for pk in ids]
    assert len(all_ids) == len(set(all_ids)) == 40


@pytest.mark.django_db
def test_a_stale_claim_is_taken_over_after_the_lease():
    message = outbox.enqueue("test.record", {"n": 1})
    assert outbox.claim("dead-worker")
    assert outbox.claim("w2") == []
    OutboxMessage.objects.filter(pk=message.pk).update(
        claimed_at=timezone.now() - outbox.LEASE - timedelta(seconds=1)
    )
    assert [m.pk for m in outbox.claim("w2")] == [message.pk]


@pytest.mark.django_db
def test_a_failure_is_retried_later_then_given_up():
    message = outbox.enqueue("test.fail", {})
    assert outbox.run_once("w1") == 0
    message.refresh_from_db()
    assert message.attempts == 1 and message.claimed_at is None
    assert "out of paper" in message.last_error
    assert message.available_at > timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=outbox.MAX_ATTEMPTS - 1, available_at=timezone.now()
    )
    outbox.run_once("w1")
    message.refresh_from_db()
    assert message.failed_at is not None
    assert outbox.claim("w1") == []


@pytest.mark.django_db(transaction=True)
def test_the_worker_command_runs_due_messages():
    outbox.enqueue("test.record", {"n": 7})
    call_command("worker", "--once")
    assert RAN == [{"n": 7}]
