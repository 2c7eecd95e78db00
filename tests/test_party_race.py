"""Claims under contention: many members press "claim" at the same moment; the post never has more
claims than places, and one member pressing many times gets one claim. Real threads, real
transactions, on whichever database the suite runs (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection

from linli.accounts.actions import grant_role
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.party import actions
from linli.party.models import Claim, MemberKind, PartyMember, Post
from tests.conftest import build_world

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 12


def run_together(jobs: list[Any]) -> list[str]:
    """Run each job in its own thread, all released at once; returns what each ended with."""
    barrier = threading.Barrier(len(jobs))
    results: list[str] = [""] * len(jobs)

    def run(i: int, job: Any) -> None:
        try:
            barrier.wait(timeout=30)
            job()
            results[i] = "ok"
        except actions.Full:
            results[i] = "full"
        except actions.AlreadyClaimed:
            results[i] = "again"
        except Exception as exc:  # anything else fails the test below
            results[i] = f"error: {exc!r}"
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def members(world: Any, n: int) -> list[User]:
    users = []
    for i in range(n):
        user = User.objects.create_user(f"racer{i}", password="x")
        grant_role(None, user, Role.PARTY_MEMBER, place=world.a.place)
        member = actions.add_member(
            world.worker, community=world.a.place, name=f"党员{i}", kind=MemberKind.DUAL_REPORT
        )
        PartyMember.objects.filter(pk=member.pk).update(user=user)
        users.append(User.objects.get(pk=user.pk))
    return users


def test_many_claims_at_once_never_exceed_the_capacity():
    world = build_world()
    users = members(world, THREADS)
    post = actions.publish(world.worker, world.a.place, kind="task", title="抢位", capacity=5)
    results = run_together([lambda u=u: actions.claim(u, post.pk) for u in users])
    counts = Counter(results)
    assert counts == {"ok": 5, "full": THREADS - 5}, results
    post.refresh_from_db()
    assert post.claimed == 5
    assert Claim.objects.filter(post=post, withdrawn_at__isnull=True).count() == 5


def test_withdrawals_and_claims_at_once_keep_the_count_true():
    world = build_world()
    users = members(world, THREADS)
    post = actions.publish(world.worker, world.a.place, kind="post", title="守护岗", capacity=6)
    first = [actions.claim(u, post.pk) for u in users[:6]]
    jobs: list[Callable[[], object]] = []
    for made, user in zip(first, users[:6], strict=True):
        jobs.append(partial(actions.withdraw, user, made.pk))
    for user in users[6:]:
        jobs.append(partial(actions.claim, user, post.pk))
    results = run_together(jobs)
    assert all(r in ("ok", "full") for r in results), results
    post.refresh_from_db()
    live = Claim.objects.filter(post=post, withdrawn_at__isnull=True).count()
    assert post.claimed == live <= post.capacity
    assert live == Counter(results[6:])["ok"]


def test_one_member_pressing_many_times_gets_one_claim():
    world = build_world()
    (user,) = members(world, 1)
    post = actions.publish(world.worker, world.a.place, kind="task", title="连点", capacity=10)
    results = run_together([lambda: actions.claim(user, post.pk) for _i in range(8)])
    counts = Counter(results)
    assert counts["ok"] == 1 and counts["again"] == 7, results
    assert Post.objects.get(pk=post.pk).claimed == 1
    assert Claim.objects.filter(post=post).count() == 1
