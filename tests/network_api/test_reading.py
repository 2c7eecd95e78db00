"""Reading through the network API: masked phone numbers, coverage that matches a count by hand."""

from __future__ import annotations

import json

import pytest

from linli.cases.models import Category
from tests.network_api.helpers import API, MASKED, PHONE

pytestmark = pytest.mark.django_db


# --- reading: masking, coverage ------------------------------------------------------------------------


def test_phone_numbers_are_masked_everywhere(world, net, as_user):
    for who in ("worker", "street_admin"):
        client = as_user(world.users[who])
        for url in (
            "/network/people",
            f"/network/people/{net.person.pk}",
            "/network/chiefs",
            f"/network/chiefs/{net.chief.pk}",
        ):
            response = client.get(f"{API}{url}")
            body = response.content.decode()
            assert MASKED in body, (who, url)
            assert PHONE not in body and "+86" not in body, (who, url)
    person = as_user(world.worker).get(f"{API}/network/people/{net.person.pk}").json()
    assert person["phone_masked"] == MASKED and "phone" not in person
    # The chief sees the masked number of the chiefs of their building too.
    chief = as_user(world.chief).get(f"{API}/network/chiefs/{net.chief.pk}").json()
    assert chief["phone_masked"] == MASKED


def test_coverage_matches_a_count_by_hand(world, households, as_user):
    client = as_user(world.worker)
    report = client.get(f"{API}/network/coverage?place={world.a.place.pk}").json()
    assert report["area"] == {"kind": "community", "id": world.a.place.pk, "name": "甲社区"}
    assert report["days"] == 90
    assert report["total"] == {"households": 4, "reached": 2, "unreached": 2, "rate": 0.5}
    rows = {r["id"]: (r["households"], r["reached"]) for r in report["rows"]}
    assert rows == {
        world.a.building.pk: (2, 1),
        world.a.other_building.pk: (1, 1),
        world.a.loose_building.pk: (1, 0),
    }
    assert {r["kind"] for r in report["rows"]} == {"building"}
    grids = {r["id"]: (r["households"], r["reached"]) for r in report["by_grid"]}
    assert grids == {world.a.grid.pk: (3, 1), world.a.grid2.pk: (1, 1)}
    # Longer and shorter windows.
    longer = client.get(f"{API}/network/coverage?place={world.a.place.pk}&days=120").json()
    assert (longer["total"]["households"], longer["total"]["reached"]) == (4, 3)
    shorter = client.get(f"{API}/network/coverage?place={world.a.place.pk}&days=30").json()
    assert shorter["total"]["reached"] == 1
    # A grid, a lane, a building.
    grid = client.get(f"{API}/network/coverage?grid={world.a.grid.pk}").json()
    assert grid["area"]["kind"] == "grid" and grid["total"]["households"] == 3
    assert {r["id"] for r in grid["rows"]} == {world.a.building.pk, world.a.loose_building.pk}
    lane = client.get(f"{API}/network/coverage?lane={world.a.lane2.pk}").json()
    assert lane["total"] == {"households": 1, "reached": 1, "unreached": 0, "rate": 1.0}
    building = client.get(f"{API}/network/coverage?place={world.a.building.pk}").json()
    assert building["total"]["households"] == 2 and building["rows"] == []
    # The street: one row per community.
    street = as_user(world.street_admin).get(f"{API}/network/coverage").json()
    assert street["area"]["id"] == world.street.pk
    assert {r["id"]: (r["households"], r["reached"]) for r in street["rows"]} == {
        world.a.place.pk: (4, 2),
        world.b.place.pk: (1, 1),
    }
    compound = client.get(f"{API}/network/coverage?place={world.a.compound.pk}&days=1").json()
    assert (compound["total"]["households"], compound["total"]["reached"]) == (3, 1)
    # Nothing to count: no rate rather than 0 %.
    assert as_user(world.neighbour).get(
        f"{API}/network/coverage?place={world.b.loose_building.pk}"
    ).json()["total"] == {"households": 0, "reached": 0, "unreached": 0, "rate": None}
    for query in (
        "days=0",
        "days=400",
        f"place={world.a.place.pk}&grid={world.a.grid.pk}",
        "place=abc",
    ):
        assert client.get(f"{API}/network/coverage?{query}").status_code == 422, query
    # A dwelling is not an area; places out of scope are 404.
    assert client.get(f"{API}/network/coverage?place={world.a.dwelling.pk}").status_code == 404
    assert client.get(f"{API}/network/coverage?place={world.b.place.pk}").status_code == 404


def test_unreached_households_show_only_the_tags_one_may_see(world, households, as_user):
    url = f"{API}/network/coverage/unreached?place={world.a.place.pk}"
    worker = as_user(world.worker).get(url).json()
    assert worker["count"] == 2
    items = worker["items"]
    # The household needing care (a sensitive tag the worker may see) comes first.
    assert [i["dwelling_id"] for i in items] == [
        households["loose101"].pk,
        households["unit201"].pk,
    ]
    loose = items[0]
    assert loose["care"] is True and len(loose["tags"]) == 1 and loose["head"] == "孙三"
    assert loose["building_id"] == world.a.loose_building.pk
    assert loose["building_name"] == world.a.loose_building.name
    assert loose["last_reached"] is not None
    assert items[1]["care"] is False and items[1]["tags"] == [] and items[1]["last_reached"] is None
    # The street sees the same households, without the sensitive tag (nor the order it gives).
    street = as_user(world.street_admin).get(url).json()
    assert street["count"] == 2
    assert all(i["tags"] == [] and i["care"] is False for i in street["items"])
    assert "困难" not in json.dumps(street, ensure_ascii=False)
    # The grid worker sees sensitive tags in their grid.
    grid = (
        as_user(world.grid_worker)
        .get(f"{API}/network/coverage/unreached?grid={world.a.grid.pk}")
        .json()
    )
    assert grid["count"] == 2 and grid["items"][0]["care"] is True
    # Paging.
    page = as_user(world.worker).get(f"{url}&limit=1&offset=1").json()
    assert page["count"] == 2 and [i["dwelling_id"] for i in page["items"]] == [
        households["unit201"].pk
    ]
    longer = as_user(world.worker).get(f"{url}&days=120").json()
    assert [i["dwelling_id"] for i in longer["items"]] == [households["unit201"].pk]
    for query in ("limit=0", "limit=1000", "offset=-1"):
        assert as_user(world.worker).get(f"{url}&{query}").status_code == 422, query


def test_my_buildings_for_a_chief(world, households, as_user):
    from linli.cases import workflow

    for description in ("楼道灯不亮了", "电梯门关不上"):
        workflow.take_in(
            world.worker,
            workflow.Intake(
                channel="phone",
                category=Category.objects.get(code="lighting"),
                place=world.a.building,
                description=description,
            ),
        )
    done = workflow.take_in(
        world.worker,
        workflow.Intake(
            channel="phone",
            category=Category.objects.get(code="lighting"),
            place=world.a.building,
            description="已经处理的事",
        ),
    )
    workflow.reject(world.worker, done.pk, "重复")
    mine = as_user(world.chief).get(f"{API}/network/my-buildings").json()
    assert mine == [
        {
            "id": world.a.building.pk,
            "name": world.a.building.name,
            "days": 90,
            "open_cases": 2,
            "households": 2,
            "reached": 1,
            "unreached": 1,
            "rate": 0.5,
        }
    ]
    # The lane chief's buildings are those on their lane.
    lane = as_user(world.lane_chief).get(f"{API}/network/my-buildings?days=120").json()
    assert {b["id"]: (b["households"], b["reached"]) for b in lane} == {
        world.a.building.pk: (2, 1),
        world.a.loose_building.pk: (1, 1),
    }
    # Someone who is no chief has no buildings.
    assert as_user(world.worker).get(f"{API}/network/my-buildings").json() == []
