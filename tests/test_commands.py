"""Operator commands: tokens and grants from the shell, with clear errors."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from linli.accounts.models import ApiToken, Grant

pytestmark = pytest.mark.django_db


def test_token_create_prints_a_working_token_and_revoke_stops_it(world, capsys):
    call_command("token", "create", "chief", "--name", "sync")
    secret = capsys.readouterr().out.strip()
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get("/api/v1/me").status_code == 200
    call_command("token", "revoke", ApiToken.objects.get().prefix)
    assert client.get("/api/v1/me").status_code == 401


def test_token_for_unknown_user_is_a_clear_error(world):
    with pytest.raises(CommandError, match="No user"):
        call_command("token", "create", "ghost", "--name", "x")


def test_grant_by_national_code_and_revoke(world):
    call_command("grant", "outsider", "street_admin", "--place", world.street.code)
    assert Grant.objects.filter(user=world.outsider, place=world.street, revoked_at=None).exists()
    call_command("grant", "outsider", "street_admin", "--place", world.street.code, "--revoke")
    assert not Grant.objects.filter(user=world.outsider, revoked_at=None).exists()


def test_grant_on_the_wrong_kind_of_place_is_refused(world):
    from django.utils import translation

    with translation.override("en"), pytest.raises(CommandError, match="cannot be granted on a"):
        call_command("grant", "outsider", "chief", "--place", world.a.place.code)
    assert not Grant.objects.filter(user=world.outsider).exists()


def test_grant_on_a_grid(world):
    call_command("grant", "outsider", "grid_worker", "--grid", world.b.grid.code)
    assert Grant.objects.get(user=world.outsider).grid == world.b.grid
