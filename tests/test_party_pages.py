"""Party pages: the QR registration, the worker's pages, the member's page, the partner contact's
service record; scope for every role, and 404 on every party route for the outsider and for the
neighbouring community's worker."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.accounts.models import User
from linli.core.models import AuditEntry
from linli.party import actions
from linli.party.models import HoursStatus, Registration, ServiceHours
from linli.party.public import PUBLIC_LIMIT, register_url
from tests.helpers.party import USCC_BANK, Party, build_party

pytestmark = pytest.mark.django_db


@pytest.fixture
def party(world) -> Party:
    return build_party(world)


FORM = {
    "name": "张在职",
    "phone": "13912345678",
    "unit_name": "某银行支行",
    "uscc": USCC_BANK,
    "skills": "法律咨询",
    "availability": "周末",
    "password": "a-long-pass-phrase-9",
}


def body(response: Any) -> str:
    return response.content.decode()


def test_qr_registration_then_approval_then_login(world, party, client):
    url = register_url(world.a.place)
    page = client.get(url)
    assert page.status_code == 200 and world.a.place.name in body(page)
    bad = client.post(url, {**FORM, "uscc": "91440101MA59ABCD10"})
    assert bad.status_code == 200 and Registration.objects.count() == 0
    done = client.post(url, FORM)
    assert done.status_code == 302 and done["Location"] == reverse("public_party:registered")
    reg = Registration.objects.get()
    queue = body(client_for(world.worker).get("/party/registrations/"))
    assert "张在职" in queue and "139****5678" in queue and "13912345678" not in queue
    assert "张在职" not in body(client_for(world.neighbour).get("/party/registrations/"))
    # The street admin sees the queue but may not decide.
    assert (
        client_for(world.street_admin).post(f"/party/registrations/{reg.pk}/approve/").status_code
        == 403
    )
    response = client_for(world.worker).post(f"/party/registrations/{reg.pk}/approve/")
    assert response.status_code == 302
    reg.refresh_from_db()
    assert reg.status == "approved"
    assert client.login(username="13912345678", password=FORM["password"])
    assert client.get("/party/").status_code == 302  # a member lands on their own page
    assert "周末清理楼道" in body(client.get("/party/serve/"))


def test_a_forged_or_foreign_token_is_404(world, client):
    url = register_url(world.a.place)
    assert client.get(url[:-3] + "xyz/").status_code == 404
    assert client.get(f"/d/{world.a.place.pk}/").status_code == 404
    from django.core import signing

    from linli.party.public import SALT

    building_token = signing.Signer(salt=SALT).sign(str(world.a.building.pk))
    assert client.get(f"/d/{building_token}/").status_code == 404


def test_registration_is_rate_limited_per_address(world, client):
    url = register_url(world.a.place)
    for i in range(PUBLIC_LIMIT):
        client.post(url, {**FORM, "phone": f"1391234{i:04d}"})
    assert Registration.objects.count() == PUBLIC_LIMIT
    response = client.post(url, {**FORM, "phone": "13911110000"})
    assert response.status_code == 200 and Registration.objects.count() == PUBLIC_LIMIT


def client_for(user: User) -> Any:
    from tests.conftest import client_for as make

    return make(user)


def test_member_claims_logs_hours_and_worker_confirms(world, party):
    member = client_for(world.party_member)
    page = body(member.get("/party/serve/"))
    assert "周末清理楼道" in page and f'action="/party/posts/{party.task.pk}/claim/"' in page
    assert member.post(f"/party/posts/{party.task.pk}/claim/").status_code == 302
    party.task.refresh_from_db()
    assert party.task.claimed == 1
    made = party.task.claims.get()
    today = timezone.localdate().isoformat()
    member.post(
        f"/party/claims/{made.pk}/hours/", {"served_on": today, "hours": "3", "note": "清理"}
    )
    row = ServiceHours.objects.get()
    assert row.status == HoursStatus.PENDING
    assert "周末清理楼道" in body(member.get("/party/serve/"))
    worker = client_for(world.worker)
    assert "吴越" in body(worker.get("/party/hours/"))
    assert worker.post(f"/party/hours/{row.pk}/confirm/").status_code == 302
    row.refresh_from_db()
    assert row.status == HoursStatus.CONFIRMED
    # The unit's record shows them, to the worker and to the unit's partner contact.
    for user in (world.worker, world.partner):
        page = body(client_for(user).get(f"/party/units/{party.unit.pk}/"))
        assert "吴越" in page and "3.0" in page and "137****0001" in page
        assert "13700000001" not in page
        # The contact of the unit in community a sees a's members only.
        assert ("乙社区党员" in page) is False
    member.post(f"/party/claims/{made.pk}/withdraw/")
    party.task.refresh_from_db()
    assert party.task.claimed == 0


def test_worker_pages_render_and_mask(world, party):
    worker = client_for(world.worker)
    orgs = body(worker.get("/party/orgs/"))
    assert "甲社区党委" in orgs and "甲社区花园小区党支部" in orgs and "李建国" in orgs
    members = body(worker.get("/party/members/"))
    assert "吴越" in members and "137****0001" in members and "13700000001" not in members
    assert "乙社区党员" not in members
    assert "李建国" not in body(worker.get("/party/members/?kind=dual_report"))
    assert "李建国" in body(worker.get("/party/members/?kind=transferred"))
    detail = body(worker.get(f"/party/members/{party.registered.pk}/"))
    assert "2024-05-01" in detail and "137****0002" in detail
    assert worker.get("/party/").status_code == 200
    assert "周末清理楼道" in body(worker.get("/party/posts/"))
    assert worker.get(f"/party/posts/{party.task.pk}/").status_code == 200
    assert worker.get("/party/claims/").status_code == 200
    assert worker.get("/party/evaluations/").status_code == 200
    assert "某银行支行" in body(worker.get("/party/units/"))
    qr = worker.get("/party/qr/")
    assert qr.status_code == 200 and "<svg" in body(qr) and world.a.place.name in body(qr)
    assert world.b.place.name not in body(qr)


def test_worker_publishes_closes_adds_and_evaluates(world, party):
    worker = client_for(world.worker)
    response = worker.post(
        "/party/posts/", {"kind": "post", "title": "楼栋宣传岗", "capacity": "2", "description": ""}
    )
    assert response.status_code == 302
    from linli.party.models import Evaluation, PartyMember, PartyOrg, Post

    post = Post.objects.get(title="楼栋宣传岗")
    assert post.path == world.a.place.path
    worker.post(f"/party/posts/{post.pk}/close/")
    post.refresh_from_db()
    assert post.state == "closed"
    worker.post(
        "/party/members/new/",
        {"name": "流动党员甲", "kind": "floating", "phone": "13700000009", "org": ""},
    )
    assert PartyMember.objects.filter(name="流动党员甲", kind="floating").exists()
    worker.post(
        "/party/orgs/",
        {
            "kind": "general_branch",
            "name": "第一党总支",
            "community": world.a.place.pk,
            "parent": party.committee.pk,
        },
    )
    assert PartyOrg.objects.filter(name="第一党总支", parent=party.committee).exists()
    worker.post(f"/party/orgs/{party.committee.pk}/secretary/", {"member": party.member.pk})
    party.committee.refresh_from_db()
    assert party.committee.secretary == party.member
    worker.post(
        f"/party/members/{party.member.pk}/",
        {"period": "2026-Q1", "grade": "good", "comment": "好"},
    )
    assert Evaluation.objects.get(member=party.member).grade == "good"
    # The neighbour may not publish in a.
    neighbour = client_for(world.neighbour)
    assert (
        neighbour.post(
            "/party/posts/",
            {"community": world.a.place.pk, "kind": "task", "title": "x", "capacity": "1"},
        ).status_code
        == 404
    )
    assert not Post.objects.filter(title="x").exists()


def test_worker_links_a_partner_contact(world, party):
    contact = User.objects.create_user("bank-contact", password="x", phone="13655556666")
    worker = client_for(world.worker)
    assert client_for(contact).get(f"/party/units/{party.other_unit.pk}/").status_code == 404
    from linli.party.models import PartyMember

    PartyMember.objects.filter(pk=party.registered.pk).update(unit=party.other_unit)
    worker.post(f"/party/units/{party.other_unit.pk}/", {"login": "13655556666"})
    assert client_for(contact).get(f"/party/units/{party.other_unit.pk}/").status_code == 200
    assert client_for(contact).get(f"/party/units/{party.unit.pk}/").status_code == 404
    # Revoking the role ends the access; the link stays as history.
    from linli.accounts.actions import revoke_grant

    for grant in contact.grants.all():
        revoke_grant(None, grant)
    assert client_for(contact).get(f"/party/units/{party.other_unit.pk}/").status_code == 404


def test_roles_see_what_is_theirs(world, party):
    # The street admin reads everything of the street, decides nothing.
    admin = client_for(world.street_admin)
    assert "乙社区党员" in body(admin.get("/party/members/"))
    assert admin.get(f"/party/members/{party.member.pk}/").status_code == 200
    assert admin.post(f"/party/posts/{party.task.pk}/close/").status_code == 403
    # The party member: their community's open posts, nothing else of the module.
    member = client_for(world.party_member)
    assert member.get(f"/party/posts/{party.task.pk}/").status_code == 200
    for url in (
        "/party/members/",
        "/party/orgs/",
        "/party/registrations/",
        "/party/hours/",
        f"/party/members/{party.member.pk}/",
        f"/party/units/{party.unit.pk}/",
        "/party/qr/",
    ):
        assert member.get(url).status_code == 404, url
    # The partner contact: their unit's record only.
    partner = client_for(world.partner)
    assert partner.get("/party/").status_code == 302
    assert "某银行支行" in body(partner.get("/party/units/"))
    assert "某社区医院" not in body(partner.get("/party/units/"))
    assert partner.get(f"/party/units/{party.other_unit.pk}/").status_code == 404
    for url in (
        "/party/members/",
        "/party/serve/",
        f"/party/posts/{party.task.pk}/",
        "/party/hours/",
    ):
        assert partner.get(url).status_code == 404, url
    # Roles without a party capability.
    for user in (world.chief, world.grid_worker, world.volunteer, world.property, world.lane_chief):
        client = client_for(user)
        assert client.get("/party/").status_code == 404
        assert client.get(f"/party/units/{party.unit.pk}/").status_code == 404


def test_menu_entry(world, party):
    assert reverse("party:home") in body(client_for(world.worker).get("/"))
    assert reverse("party:home") in body(client_for(world.party_member).get("/"))
    assert reverse("party:home") in body(client_for(world.partner).get("/"))
    assert reverse("party:home") not in body(client_for(world.chief).get("/"))


def every_route(world: Any, party: Party) -> list[tuple[str, str, dict[str, Any]]]:
    """Every party route, for community a's objects."""
    made = actions.claim(world.party_member, party.task.pk)
    hours = actions.log_hours(world.party_member, made.pk, served_on=timezone.localdate(), hours=2)
    reg = actions.register(world.a.place, FORM)
    a = world.a.place.pk
    # A unit with members in a only (party.unit has a member in b too: see the test below).
    from linli.party.models import PartyMember

    PartyMember.objects.filter(pk=party.registered.pk).update(unit=party.other_unit)
    unit = party.other_unit.pk
    return [
        ("get", "/party/", {}),
        ("get", "/party/orgs/", {}),
        ("post", "/party/orgs/", {"kind": "branch", "name": "x", "community": a}),
        ("post", f"/party/orgs/{party.branch.pk}/secretary/", {"member": party.member.pk}),
        ("get", "/party/members/", {}),
        ("get", "/party/members/new/", {}),
        ("post", "/party/members/new/", {"name": "x", "kind": "registered"}),
        ("get", f"/party/members/{party.member.pk}/", {}),
        ("post", f"/party/members/{party.member.pk}/", {"period": "2026", "grade": "good"}),
        ("get", "/party/registrations/", {}),
        ("post", f"/party/registrations/{reg.pk}/approve/", {}),
        ("post", f"/party/registrations/{reg.pk}/reject/", {"reason": "x"}),
        ("get", "/party/posts/", {}),
        ("post", "/party/posts/", {"community": a, "kind": "task", "title": "x", "capacity": 1}),
        ("get", f"/party/posts/{party.task.pk}/", {}),
        ("post", f"/party/posts/{party.task.pk}/close/", {}),
        ("post", f"/party/posts/{party.task.pk}/claim/", {}),
        ("get", "/party/claims/", {}),
        ("post", f"/party/claims/{made.pk}/withdraw/", {}),
        ("post", f"/party/claims/{made.pk}/hours/", {"served_on": "2026-01-01", "hours": 1}),
        ("get", "/party/serve/", {}),
        ("get", "/party/hours/", {}),
        ("post", f"/party/hours/{hours.pk}/confirm/", {}),
        ("post", f"/party/hours/{hours.pk}/reject/", {"reason": "x"}),
        ("get", "/party/evaluations/", {}),
        ("get", "/party/units/", {}),
        ("get", f"/party/units/{unit}/", {}),
        ("post", f"/party/units/{unit}/", {"login": "outsider"}),
        ("get", f"/party/units/{unit}/record.xlsx", {}),
        ("get", f"/party/units/{unit}/record.pdf", {}),
        ("get", "/party/qr/", {}),
    ]


# The neighbour's own party pages exist (they are a worker of b): there they get 200 without a's
# data; everything about a's objects is 404.
NEIGHBOUR_OWN = {
    "/party/", "/party/orgs/", "/party/members/", "/party/members/new/", "/party/registrations/",
    "/party/posts/", "/party/claims/", "/party/hours/", "/party/evaluations/", "/party/units/",
    "/party/qr/",
}  # fmt: skip


def test_every_route_is_404_for_the_outsider_and_the_neighbour(world, party):
    routes = every_route(world, party)
    # Sanity: every named route of the app is in the list.
    from linli.party import urls

    assert len({p.name for p in urls.urlpatterns}) == 23
    before = AuditEntry.objects.count()
    for method, url, data in routes:
        response = getattr(client_for(world.outsider), method)(url, data)
        assert response.status_code == 404, (url, response.status_code)
    assert AuditEntry.objects.count() == before  # nothing happened
    for method, url, data in routes:
        response = getattr(client_for(world.neighbour), method)(url, data)
        if method == "get" and url in NEIGHBOUR_OWN:
            assert response.status_code == 200, url
            page = body(response)
            for secret in ("吴越", "李建国", "周末清理楼道", "张在职", "甲社区党委"):
                assert secret not in page, (url, secret)
        elif url == "/party/members/new/":
            # b's own form; posting "x" adds to b, never to a.
            assert response.status_code in (200, 302)
        else:
            assert response.status_code == 404, (method, url, response.status_code)
    assert not AuditEntry.objects.filter(
        actor=world.neighbour, place_path__startswith=world.a.place.path
    ).exists()


def test_a_unit_shared_by_two_communities_shows_each_worker_their_own(world, party):
    page = body(client_for(world.neighbour).get(f"/party/units/{party.unit.pk}/"))
    assert "乙社区党员" in page and "吴越" not in page
    page = body(client_for(world.worker).get(f"/party/units/{party.unit.pk}/"))
    assert "吴越" in page and "乙社区党员" not in page
    page = body(client_for(world.street_admin).get(f"/party/units/{party.unit.pk}/"))
    assert "吴越" in page and "乙社区党员" in page


@pytest.mark.parametrize(
    "who,url,limit",
    [
        ("worker", "/party/members/", 12),
        ("worker", "/party/registrations/", 12),
        ("worker", "/party/hours/", 12),
        ("worker", "/party/claims/", 12),
        ("worker", "/party/posts/", 12),
        ("worker", "/party/orgs/", 12),
        ("worker", "/party/evaluations/", 12),
        ("party_member", "/party/serve/", 12),
        ("worker", "/api/v1/party/members", 8),
        ("worker", "/api/v1/party/hours", 8),
    ],
)
def test_lists_do_not_grow_queries_with_rows(
    world, party, django_assert_max_num_queries, who, url, limit
):
    today = timezone.localdate()
    made = actions.claim(world.party_member, party.task.pk)
    for i in range(25):
        actions.add_member(
            world.worker,
            community=world.a.place,
            name=f"党员{i}",
            kind="dual_report",
            phone=f"1360000{i:04d}",
            org=party.branch if i % 2 else None,
            unit=party.unit,
        )
        actions.register(world.a.place, {**FORM, "phone": f"1350000{i:04d}"})
        actions.log_hours(world.party_member, made.pk, served_on=today, hours=1)
    client = client_for(getattr(world, who))
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200


def test_every_route_sends_the_anonymous_to_log_in(world, party, client):
    for method, url, data in every_route(world, party):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
