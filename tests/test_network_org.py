"""The network's organisation pages: people, neighbourhood associations (街坊会), volunteer teams.

A community worker runs them; a street admin reads them; everyone else — the outsider, the
neighbouring community's worker for community a's records, a chief, a grid worker — finds nothing.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from linli.core.models import AuditEntry
from linli.network import actions
from linli.network.models import (
    Association,
    AssociationMember,
    Chief,
    Membership,
    Person,
    Team,
    TeamMember,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def day(days_ago: int) -> str:
    return (TODAY() - datetime.timedelta(days=days_ago)).isoformat()


@dataclass
class Net:
    person: Person  # in community a, phone 13712345678, chair of the association, team leader
    other: Person  # in community a, in nothing
    association: Association
    chair: AssociationMember
    team: Team
    leader: TeamMember
    b_person: Person  # in community b
    b_association: Association
    b_team: Team


@pytest.fixture
def net(world) -> Net:
    w = world.worker
    person = actions.add_person(w, world.a.place, name="李秀英", phone="137 1234 5678")
    other = actions.add_person(w, world.a.place, name="陈国强")
    association = actions.create_association(w, world.a.place, "甲社区街坊会")
    chair = actions.join_association(
        w, association, person, "chair", joined_on=TODAY() - datetime.timedelta(days=30)
    )
    team = actions.create_team(w, world.a.place, "楼长志愿服务队", "chiefs")
    leader = actions.join_team(
        w, team, person, leader=True, joined_on=TODAY() - datetime.timedelta(days=30)
    )
    n = world.neighbour
    b_person = actions.add_person(n, world.b.place, name="乙社区的人")
    b_association = actions.create_association(n, world.b.place, "乙社区街坊会")
    b_team = actions.create_team(n, world.b.place, "乙社区车队", "drivers")
    return Net(person, other, association, chair, team, leader, b_person, b_association, b_team)


@pytest.fixture
def as_user():
    """A logged-in client reading the pages in English (the catalogue's Chinese may change)."""
    from tests.conftest import client_for

    def make(user: Any) -> Any:
        client = client_for(user)
        client.cookies["linli_language"] = "en"
        return client

    return make


def body(response: Any) -> str:
    return response.content.decode()


# --- the whole flow -----------------------------------------------------------------------------


def test_worker_adds_a_person_founds_an_association_and_a_team(world, roster, as_user):
    c = as_user(world.worker)
    assert c.get("/network/people/new/").status_code == 200

    # A person with a phone number, skills and a note.
    r = c.post(
        "/network/people/new/",
        {
            "community": world.a.place.pk,
            "name": "  黄  丽 ",
            "phone": "13712345678",
            "skills": "理发",
            "note": "退休教师",
        },
    )
    person = Person.objects.get(name="黄 丽")
    assert r.status_code == 302 and r["Location"] == f"/network/people/{person.pk}/"
    assert person.phone == "+8613712345678" and person.skills == "理发"
    page = c.get(r["Location"])
    assert "黄 丽" in body(page) and "137****5678" in body(page)
    assert "13712345678" not in body(page)
    assert "黄 丽 is now in the network." in body(page)  # the success message

    # A resident of the roster, found by searching it: their name is taken when none is given.
    found = c.get("/network/people/new/?q=单桂芳")
    assert f"?resident={roster.grandma.pk}" in body(found)
    chosen = c.get(f"/network/people/new/?resident={roster.grandma.pk}")
    assert "单桂芳" in body(chosen)
    r = c.post(
        "/network/people/new/",
        {"community": world.a.place.pk, "name": "", "resident": roster.grandma.pk},
    )
    assert r.status_code == 302
    grandma = Person.objects.get(resident=roster.grandma)
    assert grandma.name == "单桂芳"

    # A person with a login, found by its phone number.
    r = c.post(
        "/network/people/new/",
        {"community": world.a.place.pk, "name": "楼长王", "login_phone": "139 0000 0004"},
    )
    assert r.status_code == 302
    assert Person.objects.get(name="楼长王").user == world.chief

    # The association: found it, add a chair and a member, one leaves.
    assert c.get("/network/associations/new/").status_code == 200
    r = c.post(
        "/network/associations/new/",
        {
            "community": world.a.place.pk,
            "compound": world.a.compound.pk,
            "name": "花园街坊会",
            "founded_on": day(100),
        },
    )
    association = Association.objects.get(name="花园街坊会")
    assert r["Location"] == f"/network/associations/{association.pk}/"
    assert association.compound == world.a.compound and association.path == world.a.compound.path
    r = c.post(
        f"/network/associations/{association.pk}/members/",
        {"person": person.pk, "role": "chair", "joined_on": day(50)},
    )
    assert r.status_code == 302
    r = c.post(
        f"/network/associations/{association.pk}/members/",
        {"person": grandma.pk, "role": "council", "joined_on": day(40)},
    )
    assert r.status_code == 302
    page = body(c.get(f"/network/associations/{association.pk}/"))
    assert page.index("<h2>Chair") < page.index("黄 丽", page.index("<h2>Chair"))
    assert page.index("黄 丽", page.index("<h2>Chair")) < page.index("<h2>Council member")
    assert page.index("<h2>Council member") < page.index("单桂芳", page.index("<h2>Chair"))
    assert "单桂芳 is a member, as Council member." in page
    assert day(50) in page

    member = AssociationMember.objects.get(association=association, person=grandma)
    r = c.post(
        f"/network/associations/{association.pk}/members/{member.pk}/leave/",
        {"left_on": day(1)},
    )
    assert r.status_code == 302
    member.refresh_from_db()
    assert member.left_on is not None and member.left_on.isoformat() == day(1)
    page = body(c.get(f"/network/associations/{association.pk}/"))
    assert "Past members" in page and day(1) in page

    listing = body(c.get("/network/associations/"))
    assert "花园街坊会" in listing and "乙社区" not in listing

    # A team: found it, a leader and a member, one leaves.
    assert c.get("/network/teams/new/").status_code == 200
    r = c.post(
        "/network/teams/new/",
        {
            "community": world.a.place.pk,
            "name": "爱心车队",
            "kind": "drivers",
            "founded_on": day(200),
            "description": "送老人看病",
        },
    )
    team = Team.objects.get(name="爱心车队")
    assert r["Location"] == f"/network/teams/{team.pk}/"
    join = f"/network/teams/{team.pk}/members/"
    r = c.post(join, {"person": grandma.pk, "joined_on": day(20)})
    assert r.status_code == 302
    r = c.post(join, {"person": person.pk, "leader": "on", "joined_on": day(10)})
    assert r.status_code == 302
    page = body(c.get(f"/network/teams/{team.pk}/"))
    members = page[page.index("<h2>Members") :]
    assert members.index("黄 丽") < members.index("单桂芳")  # the leader first
    assert "Team leader" in page
    driver = TeamMember.objects.get(team=team, person=grandma)
    r = c.post(f"/network/teams/{team.pk}/members/{driver.pk}/leave/", {"left_on": day(0)})
    assert r.status_code == 302
    driver.refresh_from_db()
    assert driver.left_on == TODAY()
    listing = body(c.get("/network/teams/"))
    assert "爱心车队" in listing and "1 member" in listing

    # The person's page lists their roles and memberships with dates.
    actions.recruit_chief(world.worker, person, "building")
    page = body(c.get(f"/network/people/{person.pk}/"))
    assert "Building chief" in page and "Candidate" in page
    assert "花园街坊会" in page and "爱心车队" in page and day(50) in page


def test_people_list_search_and_filters(world, net, as_user):
    c = as_user(world.worker)
    everyone = body(c.get("/network/people/"))
    assert "李秀英" in everyone and "陈国强" in everyone and "乙社区的人" not in everyone
    assert "137****5678" in everyone and "13712345678" not in everyone
    assert "陈国强" not in body(c.get("/network/people/?q=秀英"))
    assert "李秀英" in body(c.get("/network/people/?q=秀英"))
    for flag in ("association", "team"):
        page = body(c.get(f"/network/people/?{flag}=1"))
        assert "李秀英" in page and "陈国强" not in page
    assert "陈国强" not in body(c.get("/network/people/?chief=1"))
    actions.recruit_chief(world.worker, net.other, "lane")
    page = body(c.get("/network/people/?chief=1"))
    assert "陈国强" in page and "李秀英" not in page
    # Leaving takes a person out of the filter.
    actions.leave(world.worker, net.leader)
    assert "李秀英" not in body(c.get("/network/people/?team=1"))


def test_person_page_shows_contacts_they_made(world, net, as_user):
    from linli.network.models import Contact

    Contact.objects.create(
        kind="visit",
        place=world.a.dwelling,
        path=world.a.dwelling.path,
        at=timezone.now(),
        person=net.person,
        method="home",
    )
    page = body(as_user(world.worker).get(f"/network/people/{net.person.pk}/"))
    assert "Home visit" in page and world.a.dwelling.name in page


# --- who may do what ----------------------------------------------------------------------------


def routes(net: Net) -> list[tuple[str, str, dict]]:
    """Every route of these pages, on community a's records: (method, url, data)."""
    a, t = net.association, net.team
    return [
        ("get", "/network/people/", {}),
        ("get", "/network/people/new/", {}),
        ("post", "/network/people/new/", {"community": net.person.community_id, "name": "X"}),
        ("get", f"/network/people/{net.person.pk}/", {}),
        ("get", "/network/associations/", {}),
        ("get", "/network/associations/new/", {}),
        (
            "post",
            "/network/associations/new/",
            {"community": net.person.community_id, "name": "X"},
        ),
        ("get", f"/network/associations/{a.pk}/", {}),
        (
            "post",
            f"/network/associations/{a.pk}/members/",
            {"person": net.other.pk, "role": "member", "joined_on": day(1)},
        ),
        (
            "post",
            f"/network/associations/{a.pk}/members/{net.chair.pk}/leave/",
            {"left_on": day(0)},
        ),
        ("get", "/network/teams/", {}),
        ("get", "/network/teams/new/", {}),
        (
            "post",
            "/network/teams/new/",
            {"community": net.person.community_id, "name": "X", "kind": "other"},
        ),
        ("get", f"/network/teams/{t.pk}/", {}),
        (
            "post",
            f"/network/teams/{t.pk}/members/",
            {"person": net.other.pk, "joined_on": day(1)},
        ),
        ("post", f"/network/teams/{t.pk}/members/{net.leader.pk}/leave/", {"left_on": day(0)}),
    ]


def snapshot() -> tuple:
    return (
        Person.objects.count(),
        Association.objects.count(),
        Team.objects.count(),
        list(AssociationMember.objects.values_list("pk", "role", "left_on").order_by("pk")),
        list(TeamMember.objects.values_list("pk", "leader", "left_on").order_by("pk")),
    )


def call(client: Any, method: str, url: str, data: dict) -> Any:
    return client.post(url, data) if method == "post" else client.get(url)


def test_every_route_is_covered(net):
    from django.urls import get_resolver

    from linli.network import urls_org

    names = {p.name for p in urls_org.urlpatterns}
    urls = {url for _m, url, _d in routes(net)}
    assert len(names) == 13
    resolved = {get_resolver().resolve(url).url_name for url in urls}
    assert resolved == names


def test_outsider_gets_404_on_every_route_with_any_method(world, net, as_user):
    c = as_user(world.outsider)
    before = snapshot()
    for method, url, data in routes(net):
        for m in ("get", "post"):
            assert call(c, m, url, data).status_code == 404, (m, url)
        del method
    assert snapshot() == before


def test_anonymous_is_sent_to_log_in(world, net, client):
    for method, url, data in routes(net):
        r = call(client, method, url, data)
        assert r.status_code == 302 and "/accounts/login/" in r["Location"], url


def test_neighbouring_worker_gets_404_on_community_a(world, net, as_user):
    c = as_user(world.neighbour)
    before = snapshot()
    object_routes = [r for r in routes(net) if any(ch.isdigit() for ch in r[1])]
    assert len(object_routes) == 7
    for _method, url, data in object_routes:
        for m in ("get", "post"):
            assert call(c, m, url, data).status_code == 404, (m, url)
    # Founding something in community a from the forms: 404 too.
    for method, url, data in routes(net):
        if method == "post" and url.endswith("/new/"):
            assert c.post(url, data).status_code == 404, url
    assert snapshot() == before
    # Their lists show their own community only.
    for url, own, theirs in (
        ("/network/people/", "乙社区的人", "李秀英"),
        ("/network/associations/", "乙社区街坊会", "甲社区街坊会"),
        ("/network/teams/", "乙社区车队", "楼长志愿服务队"),
    ):
        page = body(c.get(url))
        assert own in page and theirs not in page, url


@pytest.mark.parametrize("who", ["chief", "lane_chief", "grid_worker"])
def test_chiefs_and_grid_workers_find_nothing(world, net, as_user, who):
    """Their NETWORK_VIEW scope is a building, a lane or a grid: no community's people,
    association or team lies in it."""
    c = as_user(getattr(world, who))
    before = snapshot()
    for method, url, data in routes(net):
        assert call(c, method, url, data).status_code == 404, url
    assert snapshot() == before


@pytest.mark.parametrize("who", ["party_member", "volunteer", "partner", "property"])
def test_other_roles_find_nothing(world, net, as_user, who):
    c = as_user(getattr(world, who))
    for method, url, data in routes(net):
        assert call(c, method, url, data).status_code == 404, url


def test_street_admin_reads_but_may_not_write(world, net, as_user):
    c = as_user(world.street_admin)
    before = snapshot()
    for method, url, data in routes(net):
        r = call(c, method, url, data)
        if method == "get" and not url.endswith("/new/"):
            assert r.status_code == 200, url
            page = body(r)
            assert "Record leaving" not in page and "Add a member" not in page
        else:
            assert r.status_code == 403, (method, url)
    assert snapshot() == before
    # Both communities of the street, with the community shown.
    page = body(c.get("/network/people/"))
    assert "李秀英" in page and "乙社区的人" in page
    page = body(c.get(f"/network/people/?community={world.b.place.pk}"))
    assert "李秀英" not in page and "乙社区的人" in page
    page = body(c.get("/network/associations/"))
    assert "甲社区街坊会" in page and "乙社区街坊会" in page
    assert "Found an association" not in page
    page = body(c.get(f"/network/teams/?community={world.a.place.pk}&kind=chiefs"))
    assert "楼长志愿服务队" in page and "乙社区车队" not in page
    page = body(c.get(f"/network/people/{net.person.pk}/"))
    assert "137****5678" in page and "13712345678" not in page


def test_the_actions_refuse_without_the_capability(world, net):
    """The pages check first; the actions check again."""
    with pytest.raises(PermissionDenied):
        actions.join_association(world.street_admin, net.association, net.other)
    with pytest.raises(PermissionDenied):
        actions.leave(world.street_admin, net.leader)
    with pytest.raises(PermissionDenied):
        actions.add_person(world.neighbour, world.a.place, name="X")


# --- bad input ----------------------------------------------------------------------------------


def test_bad_person_input_shows_errors_and_writes_nothing(world, roster, net, as_user):
    c = as_user(world.worker)
    before = snapshot()
    a = world.a.place.pk
    cases: list[tuple[dict, str]] = [
        ({"community": a, "name": "张三", "phone": "12345"}, "phone"),
        ({"community": a, "name": ""}, "name"),
        ({"community": a, "name": "张三", "login_phone": "13000000000"}, "login_phone"),
        # A resident of community b is outside the worker's roster.
        ({"community": a, "name": "", "resident": roster.neighbour_b.pk}, "resident"),
        ({"community": "", "name": "张三"}, "community"),
        ({"community": world.a.compound.pk, "name": "张三"}, "community"),
    ]
    for data, field in cases:
        r = c.post("/network/people/new/", data)
        assert r.status_code == 200, data
        assert field in r.context["form"].errors, (data, r.context["form"].errors)
        assert 'class="error"' in body(r)
    # The same resident twice: the constraint's message, nothing written.
    c.post("/network/people/new/", {"community": a, "resident": roster.grandma.pk})
    once = snapshot()
    r = c.post("/network/people/new/", {"community": a, "resident": roster.grandma.pk})
    assert r.status_code == 200 and "already in the network" in body(r)
    assert snapshot() == once
    assert once[0] == before[0] + 1


def test_bad_association_and_team_input(world, net, as_user):
    c = as_user(world.worker)
    before = snapshot()
    a = world.a.place.pk

    def errors(url: str, data: dict, form: str = "form") -> Any:
        r = c.post(url, data)
        assert r.status_code == 200, (url, data)
        assert 'class="error"' in body(r)
        return r.context[form].errors

    assert "name" in errors("/network/associations/new/", {"community": a, "name": " "})
    # A compound of another community.
    assert "compound" in errors(
        "/network/associations/new/",
        {"community": a, "compound": world.b.compound.pk, "name": "X"},
    )
    assert "founded_on" in errors(
        "/network/associations/new/", {"community": a, "name": "X", "founded_on": day(-3)}
    )
    assert "kind" in errors("/network/teams/new/", {"community": a, "name": "X", "kind": "nope"})
    assert "name" in errors("/network/teams/new/", {"community": a, "name": "", "kind": "other"})

    url = f"/network/associations/{net.association.pk}/members/"
    # Someone of community b, an unknown role, a date in the future.
    assert "person" in errors(
        url, {"person": net.b_person.pk, "role": "member", "joined_on": day(1)}, "join_form"
    )
    assert "role" in errors(
        url, {"person": net.other.pk, "role": "boss", "joined_on": day(1)}, "join_form"
    )
    assert "joined_on" in errors(
        url, {"person": net.other.pk, "role": "member", "joined_on": day(-1)}, "join_form"
    )
    assert "person" in errors(
        f"/network/teams/{net.team.pk}/members/",
        {"person": net.b_person.pk, "joined_on": day(1)},
        "join_form",
    )
    # Leaving before joining: the action's error, next to the member.
    for leave in (
        f"/network/associations/{net.association.pk}/members/{net.chair.pk}/leave/",
        f"/network/teams/{net.team.pk}/members/{net.leader.pk}/leave/",
    ):
        r = c.post(leave, {"left_on": day(60)})
        assert r.status_code == 200 and "The end is before the start." in body(r)
        r = c.post(leave, {"left_on": "not a date"})
        assert r.status_code == 200 and 'class="error"' in body(r)
    # A member of another association or team through this one's URL.
    other = actions.create_association(world.worker, world.a.place, "另一个街坊会")
    r = c.post(
        f"/network/associations/{other.pk}/members/{net.chair.pk}/leave/", {"left_on": day(0)}
    )
    assert r.status_code == 404
    assert snapshot()[1:3] == (before[1] + 1, before[2])
    assert snapshot()[3:] == before[3:]


def test_phone_is_never_shown_in_clear(world, net, as_user):
    c = as_user(world.worker)
    for url in (
        "/network/people/",
        f"/network/people/{net.person.pk}/",
        f"/network/associations/{net.association.pk}/",
        f"/network/teams/{net.team.pk}/",
    ):
        page = body(c.get(url))
        assert "13712345678" not in page and "+8613712345678" not in page, url
    assert "137****5678" in body(c.get(f"/network/people/{net.person.pk}/"))


def test_chief_role_count_on_the_person_page(world, net, as_user):
    chief = actions.recruit_chief(world.worker, net.person, "street")
    assert Chief.objects.filter(person=net.person).count() == 1
    page = body(as_user(world.worker).get(f"/network/people/{net.person.pk}/"))
    assert "Street chief" in page
    try:
        from django.urls import reverse

        href = reverse("network:chief", args=[chief.pk])
    except Exception:
        href = None
    if href:
        assert f'href="{href}"' in page


# --- one membership flow for associations and teams -------------------------------------------
# network.actions.join / leave, one view pair, one API helper: each kind keeps its own audit
# actions, messages, errors and answers.

DAY = datetime.date(2024, 3, 1)


def audited(after: int) -> list[tuple[str, str, str, dict]]:
    return [
        (e.action, e.target_type, e.target_id, e.data)
        for e in AuditEntry.objects.filter(pk__gt=after).order_by("pk")
    ]


def last_audit() -> int:
    entry = AuditEntry.objects.order_by("-pk").first()
    return entry.pk if entry else 0


def test_both_kinds_are_memberships_with_the_same_dates():
    assert Membership._meta.abstract
    for kind in (AssociationMember, TeamMember):
        assert Membership in kind.__mro__ and not kind._meta.abstract
        assert not kind._meta.get_field("joined_on").null and kind._meta.get_field("left_on").null
    assert AssociationMember.person.field.remote_field.related_name == "association_roles"
    assert TeamMember.person.field.remote_field.related_name == "team_roles"
    assert [c.name for c in AssociationMember._meta.constraints] == ["association_member_active"]
    assert [c.name for c in TeamMember._meta.constraints] == ["team_member_active"]


def test_joining_changing_and_leaving_an_association_is_audited_as_before(world, net):
    w, a, p = world.worker, net.association, net.other
    start = last_audit()
    member = actions.join_association(w, a, p, "council", joined_on=DAY)
    assert (member.role, member.joined_on, member.left_on) == ("council", DAY, None)
    assert actions.join_association(w, a, p, "council") == member  # again: nothing changes
    assert actions.join_association(w, a, p, "secretary").pk == member.pk
    actions.leave(w, member, DAY + datetime.timedelta(days=1))
    actions.leave(w, member, DAY + datetime.timedelta(days=2))  # left already: nothing changes
    target = ("network.association", str(a.pk))
    assert audited(start) == [
        ("network.association.join", *target, {"person": p.pk, "role": "council"}),
        (
            "network.association.role",
            *target,
            {"person": p.pk, "from": "council", "to": "secretary"},
        ),
        ("network.association.leave", *target, {"person": p.pk}),
    ]
    member.refresh_from_db()
    assert (member.role, member.left_on) == ("secretary", DAY + datetime.timedelta(days=1))
    again = actions.join_association(w, a, p)  # a new membership once the old one ended
    assert again.pk != member.pk and again.role == "member"


def test_joining_changing_and_leaving_a_team_is_audited_as_before(world, net):
    w, t, p = world.worker, net.team, net.other
    start = last_audit()
    member = actions.join_team(w, t, p, joined_on=DAY)
    assert actions.join_team(w, t, p) == member
    assert actions.join_team(w, t, p, leader=True).pk == member.pk
    actions.leave(w, member, DAY)
    target = ("network.team", str(t.pk))
    assert audited(start) == [
        ("network.team.join", *target, {"person": p.pk}),
        ("network.team.leader", *target, {"person": p.pk, "leader": True}),
        ("network.team.leave", *target, {"person": p.pk}),
    ]
    member.refresh_from_db()
    assert member.leader and member.left_on == DAY


@pytest.fixture
def english():
    """The actions' messages in English (the catalogue's Chinese may change)."""
    with translation.override("en"):
        yield


def test_the_refusals_are_those_of_each_kind(world, net, english):
    w = world.worker
    # An unknown role is refused before the right to manage is asked for.
    with pytest.raises(ValidationError) as role:
        actions.join_association(world.street_admin, net.association, net.other, "king")
    assert role.value.message_dict == {"role": ["Unknown role."]}
    with pytest.raises(PermissionDenied):
        actions.join_team(world.street_admin, net.team, net.other)
    for join in (
        lambda: actions.join_association(w, net.association, net.b_person),
        lambda: actions.join_team(w, net.team, net.b_person),
    ):
        with pytest.raises(ValidationError) as other:
            join()
        assert other.value.message_dict == {"person": ["This person belongs to another community."]}
    for member in (net.chair, net.leader):
        with pytest.raises(ValidationError) as early:
            actions.leave(w, member, member.joined_on - datetime.timedelta(days=1))
        assert early.value.message_dict == {"left_on": ["The end is before the start."]}
        member.refresh_from_db()
        assert member.left_on is None


def test_the_pages_say_what_they_said(world, net, as_user):
    c = as_user(world.worker)
    a, t = net.association, net.team
    joined = c.post(
        f"/network/associations/{a.pk}/members/",
        {"person": net.other.pk, "role": "council", "joined_on": "2024-03-01"},
        follow=True,
    )
    assert joined.redirect_chain == [(f"/network/associations/{a.pk}/", 302)]
    assert "陈国强 is a member, as Council member." in joined.content.decode()
    joined = c.post(
        f"/network/teams/{t.pk}/members/",
        {"person": net.other.pk, "joined_on": "2024-03-01"},
        follow=True,
    )
    assert "陈国强 is in the team." in joined.content.decode()
    left = c.post(
        f"/network/associations/{a.pk}/members/{net.chair.pk}/leave/",
        {"left_on": day(0)},
        follow=True,
    )
    assert "李秀英 has left the association." in left.content.decode()
    left = c.post(
        f"/network/teams/{t.pk}/members/{net.leader.pk}/leave/",
        {"left_on": day(0)},
        follow=True,
    )
    assert "李秀英 has left the team." in left.content.decode()
    # A member of another group is not found through this one's route.
    elsewhere = actions.join_team(world.neighbour, net.b_team, net.b_person)
    assert c.post(f"/network/teams/{t.pk}/members/{elsewhere.pk}/leave/", {}).status_code == 404
    assert c.get(f"/network/teams/{t.pk}/members/").status_code == 405


def test_the_api_answers_as_it_did(world, net, as_user):
    c = as_user(world.worker)
    api = "/api/v1/network"
    a, t = net.association, net.team

    def post(path: str, body: dict) -> tuple[int, dict]:
        r = c.post(f"{api}{path}", body, content_type="application/json")
        return r.status_code, r.json()

    status, made = post(f"/associations/{a.pk}/members", {"person": net.other.pk})
    assert status == 201 and made["role"] == "member" and made["person_name"] == "陈国强"
    status, again = post(f"/associations/{a.pk}/members", {"person": net.other.pk, "role": "chair"})
    assert status == 200 and again["id"] == made["id"] and again["role_label"] == "Chair (会长)"
    status, made = post(f"/teams/{t.pk}/members", {"person": net.other.pk})
    assert status == 201 and made["leader"] is False
    assert post(f"/teams/{t.pk}/members", {"person": net.other.pk})[0] == 200
    status, refused = post(f"/teams/{t.pk}/members", {"person": net.b_person.pk})
    assert status == 400 and "person" in str(refused)
    status, early = post(f"/team-members/{made['id']}/leave", {"on": "2000-01-01"})
    assert status == 400 and "on" in str(early) and "left_on" not in str(early)
    status, gone = post(f"/team-members/{made['id']}/leave", {})
    assert status == 200 and gone["left_on"]
    assert post(f"/association-members/{made['id'] + 10_000}/leave", {})[0] == 404
    n = as_user(world.neighbour)
    r = n.post(
        f"{api}/association-members/{net.chair.pk}/leave", {}, content_type="application/json"
    )
    assert r.status_code == 404
    s = as_user(world.street_admin)
    r = s.post(f"{api}/team-members/{net.leader.pk}/leave", {}, content_type="application/json")
    assert r.status_code == 403
