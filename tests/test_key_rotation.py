"""Rotating the field key loses nothing: every value is readable before, during and after."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.management import call_command
from django.db import connection

from linli.core import crypto
from linli.people.models import Resident
from linli.people.queries import search
from tests.conftest import ID_A

pytestmark = pytest.mark.django_db


def raw_ids() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM people_resident ORDER BY id")
        return [row[0] for row in cursor.fetchall()]


def test_rotation_re_encrypts_everything_and_search_still_works(roster, world, monkeypatch):
    ring = crypto.keyring()
    old = ",".join(f"{k}:{base64.b64encode(v).decode()}" for k, v in ring.keys.items())
    index = base64.b64encode(ring.index_key).decode()
    new_key = base64.b64encode(os.urandom(32)).decode()
    monkeypatch.setenv("LINLI_FIELD_KEYS", f"k9:{new_key},{old}")
    monkeypatch.setenv("LINLI_INDEX_KEY", index)
    crypto.keyring.cache_clear()
    try:
        assert all(not v.startswith("k9$") for v in raw_ids())
        # Old values stay readable under the new keyring before the rotation runs.
        assert Resident.objects.get(pk=roster.grandma.pk).id_number == ID_A
        call_command("rotate-keys", "--batch", "2")
        assert all(v.startswith("k9$") for v in raw_ids() if v)
        with connection.cursor() as cursor:
            cursor.execute("SELECT phone FROM people_historicalresident")
            assert all(v.startswith("k9$") for (v,) in cursor.fetchall() if v)
        # Now the old key can go.
        monkeypatch.setenv("LINLI_FIELD_KEYS", f"k9:{new_key}")
        crypto.keyring.cache_clear()
        assert Resident.objects.get(pk=roster.grandma.pk).id_number == ID_A
        assert [r.name for r in search(world.worker, ID_A)] == ["单桂芳"]
        call_command("rotate-keys")  # again: nothing left to do, nothing breaks
    finally:
        crypto.keyring.cache_clear()
