"""The lockout under parallel guesses: many wrong passwords for one account sent at the same
moment get at most LINLI_LOGIN_MAX_FAILURES password checks; the rest are refused as locked. Real
threads, real transactions, on whichever database the suite runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from linli.core.models import AuditEntry
from tests.conftest import PASSWORD, build_world

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 12


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread, all released at once; returns what each returned."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = job()
        except Exception as exc:  # fails the test below
            results[i] = f"error: {exc!r}"
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def guess(login: str, password: str, address: str) -> int:
    client = Client(REMOTE_ADDR=address)
    return client.post("/accounts/login/", {"login": login, "password": password}).status_code


def test_parallel_guesses_for_one_account_get_at_most_the_limit_of_checks():
    build_world()
    limit = settings.LINLI_LOGIN_MAX_FAILURES
    results = run_together(
        [partial(guess, "worker", f"wrong {i}", f"198.51.100.{i}") for i in range(THREADS)]
    )
    counts = Counter(results)
    assert set(counts) <= {401, 429}, results
    # Exactly `limit` passwords were checked; the others were refused unchecked. (Which of the
    # checked ones already saw the lock depends on the order the threads ran in.)
    assert AuditEntry.objects.filter(action="login.failed").count() == limit
    assert AuditEntry.objects.filter(action="login.locked").count() == THREADS - limit
    assert counts[401] <= limit - 1 and counts[429] >= THREADS - limit + 1, results
    assert guess("worker", PASSWORD, "198.51.100.200") == 429


def test_parallel_guesses_from_one_address_get_at_most_its_limit_of_checks():
    build_world()
    limit = settings.LINLI_LOGIN_MAX_FAILURES * 4
    results = run_together(
        [partial(guess, f"guess{i}", "wrong", "203.0.113.5") for i in range(limit + THREADS)]
    )
    assert set(results) <= {401, 429}, results
    assert AuditEntry.objects.filter(action="login.failed").count() == limit
    assert guess("worker", PASSWORD, "203.0.113.5") == 429
