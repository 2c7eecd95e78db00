"""Logging in: by phone or username, throttled, hashed with Argon2, sessions that expire."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher

from linli.accounts.models import LoginThrottle, User
from linli.core.models import AuditEntry
from linli.settings import PASSWORD_HASHERS as PRODUCTION_HASHERS
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def post_login(client, login, password=PASSWORD, **extra):
    return client.post("/accounts/login/", {"login": login, "password": password}, **extra)


def test_login_by_username_and_by_phone(world, client):
    assert post_login(client, "worker").status_code == 302
    client.logout()
    response = post_login(client, "139 0000 0002")
    assert response.status_code == 302 and response["Location"] == "/"
    client.logout()
    assert post_login(client, "+8613900000002").status_code == 302


def test_wrong_password_and_unknown_user_look_the_same(world, client):
    wrong = post_login(client, "worker", "nope")
    unknown = post_login(client, "nobody-here", "nope")
    assert wrong.status_code == unknown.status_code == 401
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="login.failed").count() == 2


def test_lock_after_repeated_failures_even_with_the_right_password(world, client):
    for _ in range(settings.LINLI_LOGIN_MAX_FAILURES - 1):
        assert post_login(client, "worker", "wrong").status_code == 401
    assert post_login(client, "worker", "wrong").status_code == 429
    response = post_login(client, "worker")  # right password, but locked
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # The lock is per login name: another person can still log in from elsewhere.
    other = type(client)(REMOTE_ADDR="10.9.9.9")
    assert post_login(other, "chief").status_code == 302


def test_one_address_trying_many_names_is_locked_too(world, client):
    limit = settings.LINLI_LOGIN_MAX_FAILURES * 4
    for i in range(limit):
        post_login(client, f"guess{i}", "wrong")
    assert post_login(client, "worker").status_code == 429


def test_lock_expires(world, client):
    from datetime import timedelta

    from django.utils import timezone

    for _ in range(settings.LINLI_LOGIN_MAX_FAILURES):
        post_login(client, "worker", "wrong")
    assert post_login(client, "worker").status_code == 429
    past = timezone.now() - timedelta(minutes=settings.LINLI_LOGIN_LOCK_MINUTES + 1)
    LoginThrottle.objects.update(locked_until=past, window_started_at=past)
    assert post_login(client, "worker").status_code == 302


def test_success_clears_the_failures_of_that_name(world, client):
    post_login(client, "worker", "wrong")
    assert post_login(client, "worker").status_code == 302
    assert not LoginThrottle.objects.filter(key=f"user:{world.worker.pk}").exists()


def test_phone_and_username_share_one_count(world, client):
    for _ in range(settings.LINLI_LOGIN_MAX_FAILURES - 1):
        post_login(client, "worker", "wrong")
    assert post_login(client, "13900000002", "wrong").status_code == 429
    assert post_login(type(client)(REMOTE_ADDR="10.1.1.1"), "worker").status_code == 429


def test_client_address_comes_from_a_trusted_proxy_only(world, client, settings):
    from linli.core.models import AuditEntry

    settings.LINLI_TRUSTED_PROXIES = frozenset({"127.0.0.1"})
    post_login(client, "worker", REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.4")
    post_login(client, "chief", REMOTE_ADDR="192.0.2.9", HTTP_X_REAL_IP="198.51.100.5")
    ips = list(
        AuditEntry.objects.filter(action="login").order_by("id").values_list("ip", flat=True)
    )
    assert ips == ["198.51.100.4", "192.0.2.9"]


def test_inactive_user_cannot_log_in(world, client):
    User.objects.filter(pk=world.worker.pk).update(is_active=False)
    assert post_login(client, "worker").status_code == 401


def test_next_is_followed_only_within_the_site(world, client):
    ok = client.post("/accounts/login/?next=/places/", {"login": "worker", "password": PASSWORD})
    assert ok["Location"] == "/places/"
    client.logout()
    evil = client.post(
        "/accounts/login/?next=https://evil.example/", {"login": "worker", "password": PASSWORD}
    )
    assert evil["Location"] == "/"


def test_production_hashes_passwords_with_argon2():
    assert PRODUCTION_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=PRODUCTION_HASHERS):
        user = User(username="argon")
        user.set_password("a long pass phrase")
        assert identify_hasher(user.password).algorithm == "argon2"


def test_sessions_expire_when_idle():
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert settings.SESSION_COOKIE_HTTPONLY is True


def test_logout_needs_a_post(world, as_user):
    client = as_user(world.worker)
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_csrf_is_enforced_on_login(world):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert post_login(client, "worker").status_code == 403


def test_pages_carry_a_strict_content_security_policy(world, as_user):
    response = as_user(world.worker).get("/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    body = response.content.decode()
    # No inline scripts or style attributes: every <script> has a src.
    assert "<script>" not in body and "style=" not in body
    assert response["X-Frame-Options"] == "DENY"


def test_password_change_is_audited(world, as_user):
    client = as_user(world.worker)
    response = client.post(
        "/accounts/me/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a much better phrase 42",
            "new_password2": "a much better phrase 42",
        },
    )
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action="password.change", actor=world.worker).exists()
