"""Who may do what in the network API: 404 out of sight, 403 where only seen, 401 without a login."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.accounts.actions import issue_token
from linli.core.models import AuditEntry
from linli.places.models import Place
from tests.helpers.api import send
from tests.network_api.helpers import API, endpoints, snapshot

pytestmark = pytest.mark.django_db


# --- scope: outsider, anonymous, neighbour, chief, street --------------------------------------------


def test_the_outsider_gets_404_everywhere_and_nothing_changes(world, net, as_user):
    client = as_user(world.outsider)
    before = snapshot()
    audits = AuditEntry.objects.count()
    for method, url, body in endpoints(world, net):
        assert send(client, method, f"{API}{url}", body).status_code == 404, (method, url)
    # Without an area, coverage falls back to the user's own: the outsider has none.
    assert client.get(f"{API}/network/coverage").status_code == 404
    assert client.get(f"{API}/network/coverage/unreached").status_code == 404
    assert snapshot() == before
    assert AuditEntry.objects.count() == audits


def test_other_roles_without_the_network_get_404(world, net, as_user):
    for name in ("volunteer", "party_member", "partner", "property"):
        client = as_user(world.users[name])
        for method, url, body in endpoints(world, net)[:8]:
            assert send(client, method, f"{API}{url}", body).status_code == 404, (name, url)


def test_anonymous_gets_401_everywhere(world, net, client):
    before = snapshot()
    for method, url, body in endpoints(world, net):
        assert send(client, method, f"{API}{url}", body).status_code == 401, (method, url)
    assert snapshot() == before


def test_the_neighbouring_worker_gets_404_on_community_a(world, net, as_user):
    client = as_user(world.neighbour)
    before = snapshot()
    for method, url, body in endpoints(world, net)[6:]:
        assert send(client, method, f"{API}{url}", body).status_code == 404, (method, url)
    assert snapshot() == before
    # Their lists hold their own community only.
    people = client.get(f"{API}/network/people").json()
    assert [p["id"] for p in people["items"]] == [net.theirs.pk]
    for url in ("chiefs", "associations", "teams", "contacts"):
        response = client.get(f"{API}/network/{url}")
        assert response.status_code == 200 and response.json()["count"] == 0, url
    assert client.get(f"{API}/network/my-buildings").json() == []
    # Their own community's coverage is theirs.
    assert client.get(f"{API}/network/coverage").json()["area"]["id"] == world.b.place.pk


def test_a_chief_may_not_manage(world, net, as_user):
    """The chief of building 1 sees the chiefs of their building (403 when managing them) but not
    the community's people, association or teams (404)."""
    client = as_user(world.chief)
    assert client.get(f"{API}/network/chiefs/{net.chief.pk}").status_code == 200
    listed = client.get(f"{API}/network/chiefs").json()
    assert [c["id"] for c in listed["items"]] == [net.chief.pk]
    assert client.get(f"{API}/network/chiefs/{net.chief.pk}").json()["next_statuses"] == []
    assert client.get(f"{API}/network/people").json()["count"] == 0
    before = snapshot()
    # By URL; for a collection, the POST (listed after the GET): adding to community a's network,
    # recruiting its person, founding its association or team.
    calls = {url: (method, body) for method, url, body in endpoints(world, net)}
    forbidden = [
        f"/network/chiefs/{net.chief.pk}/decide",
        f"/network/chiefs/{net.chief.pk}/assign",
        f"/network/assignments/{net.assignment.pk}/end",
    ]
    for url in forbidden:
        method, body = calls[url]
        response = send(client, method, f"{API}{url}", body)
        assert response.status_code == 403, url
        assert response.json()["detail"]
    invisible = [
        f"/network/people/{net.person.pk}",
        "/network/people",
        "/network/chiefs",
        f"/network/associations/{net.association.pk}",
        "/network/associations",
        f"/network/associations/{net.association.pk}/members",
        f"/network/association-members/{net.member.pk}/leave",
        f"/network/teams/{net.team.pk}",
        "/network/teams",
        f"/network/teams/{net.team.pk}/members",
        f"/network/team-members/{net.team_member.pk}/leave",
        f"/network/coverage?place={world.a.place.pk}",
        f"/network/coverage?grid={world.a.grid.pk}",
    ]
    for url in invisible:
        method, body = calls[url]
        response = send(client, method, f"{API}{url}", body)
        assert response.status_code == 404, url
    assert snapshot() == before
    # Their own building's coverage and contacts are theirs.
    assert client.get(f"{API}/network/coverage").json()["area"]["id"] == world.a.building.pk
    assert client.get(f"{API}/network/contacts/{net.contact.pk}").status_code == 200


def test_the_street_sees_but_does_not_manage_or_log(world, net, as_user):
    client = as_user(world.street_admin)
    calls = endpoints(world, net)
    before = snapshot()
    for method, url, body in calls:
        response = send(client, method, f"{API}{url}", body)
        expected = 403 if method == "post" else 200
        assert response.status_code == expected, (method, url, response.content)
    assert snapshot() == before
    assert client.get(f"{API}/network/people").json()["count"] == 3  # both communities


def test_the_grid_worker_logs_visits_in_their_grid(world, net, as_user):
    client = as_user(world.grid_worker)
    body = {"kind": "visit", "place": world.a.dwelling.pk, "method": "doorstep"}
    assert send(client, "post", f"{API}/network/contacts", body).status_code == 201
    # Other buildings of the community are in the other grid: out of sight.
    elsewhere = Place.objects.get(parent=world.a.other_building, code="101")
    body = {"kind": "visit", "place": elsewhere.pk, "method": "doorstep"}
    assert send(client, "post", f"{API}/network/contacts", body).status_code == 404
    assert client.get(f"{API}/network/coverage?grid={world.a.grid.pk}").status_code == 200
    assert client.get(f"{API}/network/coverage?grid={world.a.grid2.pk}").status_code == 404
    # People are kept per community: a grid worker sees none, but may see the list (empty).
    assert client.get(f"{API}/network/people").json()["count"] == 0
    assert client.get(f"{API}/network/people/{net.person.pk}").status_code == 404


def test_a_bearer_token_works_like_the_session(world, net):
    _token, secret = issue_token(world.worker, world.worker, "走访同步")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert client.get(f"{API}/network/people/{net.person.pk}").json()["name"] == "林建国"
    body = {"kind": "visit", "place": world.a.dwelling.pk, "method": "phone", "client_key": "t1"}
    assert send(client, "post", f"{API}/network/contacts", body).status_code == 201
