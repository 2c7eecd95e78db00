"""A clearly fictional demo street, and district-scale data for benchmarks.

Everything here is invented: the district code 440199 is not a real district, and the names are
made up. Places are written level by level with bulk inserts, so ``--scale 400`` (about 400,000
dwellings) takes a minute, not hours.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from linli.core.paths import segment
from linli.places.models import Grid, Lane, LaneKind, Place, PlaceKind

DISTRICT_CODE = "440199"
DISTRICT_NAME = "海棠区（演示）"
STREET_CODE = "440199001000"
STREET_NAME = "和风街道（演示）"
COMMUNITY_NAMES = ["青榕社区", "木棉社区", "紫荆社区", "凤凰社区", "丹桂社区"]
COMPOUND_NAMES = ["锦绣花园", "翠竹苑", "春晖小区", "怡景花园", "明月新村", "向阳小区", "桃源居"]
LANE_NAMES = ["榕树巷", "井泉巷", "书院街", "花市街", "竹丝巷", "南塘巷"]
BENCH_COMMUNITIES_PER_STREET = 50

BATCH = 5000
BUILD_FROM_SCRATCH = (PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING, PlaceKind.UNIT)


@dataclass
class CommunityPlan:
    street: Place
    code: str
    name: str
    index: int  # position in the whole demo, for coordinates


def _place(kind: str, code: str, name: str, parent: Place | None, path: str, **kw: object) -> Place:
    return Place(kind=kind, code=code, name=name, parent=parent, path=path, **kw)


def _bulk(objs: list[Place]) -> list[Place]:
    return Place.objects.bulk_create(objs, batch_size=BATCH)


def _square(lon: float, lat: float, size: float) -> dict[str, object]:
    ring = [
        [round(lon, 6), round(lat, 6)],
        [round(lon + size, 6), round(lat, 6)],
        [round(lon + size, 6), round(lat + size, 6)],
        [round(lon, 6), round(lat + size, 6)],
        [round(lon, 6), round(lat, 6)],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def build_communities(plans: Iterable[CommunityPlan], rng: random.Random) -> list[Place]:
    """Create communities with compounds, buildings, units, dwellings, grids and lanes."""
    return _Build(list(plans), rng).run()


class _Build:
    """One pass of ``build_communities``, level by level. The random draws come in a fixed order
    (lanes, compounds, floors, floor areas), so a seed always gives the same street."""

    def __init__(self, plans: list[CommunityPlan], rng: random.Random) -> None:
        self.plans = plans
        self.rng = rng
        # Positions handed out so far, per parent. Parents made in this build start empty; only
        # the existing streets are looked up.
        self.next_child: dict[int, int] = {}
        self.origin: dict[int, tuple[float, float]] = {}
        self.grids_of: dict[int, list[Grid]] = {}
        self.lanes_of: dict[int, list[Lane]] = {}

    def run(self) -> list[Place]:
        communities = self.communities()
        self.grids_and_lanes(communities)
        buildings = self.buildings(communities, self.compounds(communities))
        self.dwellings(buildings, self.units(buildings))
        return communities

    def child_path(self, parent: Place) -> str:
        assert parent.pk is not None
        n = self.next_child.get(parent.pk)
        if n is None and parent.kind in BUILD_FROM_SCRATCH:
            n = 0
        if n is None:
            last = (
                Place.objects.filter(parent=parent)
                .order_by("-path")
                .values_list("path", flat=True)
                .first()
            )
            n = int(last[-5:]) if last else 0
        n += 1
        self.next_child[parent.pk] = n
        return parent.path + segment(n)

    def communities(self) -> list[Place]:
        return _bulk(
            [
                _place(
                    PlaceKind.COMMUNITY,
                    p.code,
                    p.name,
                    p.street,
                    self.child_path(p.street),
                    address=f"{p.street.name}{p.name}",
                )
                for p in self.plans
            ]
        )

    def grids_and_lanes(self, communities: list[Place]) -> None:
        grids: list[Grid] = []
        lanes: list[Lane] = []
        for plan, community in zip(self.plans, communities, strict=True):
            lon0 = 113.20 + (plan.index % 40) * 0.012
            lat0 = 23.05 + (plan.index // 40) * 0.012
            self.origin[community.pk] = (lon0, lat0)
            for g in range(4):
                grids.append(
                    Grid(
                        community=community,
                        code=f"{community.code}{g + 1:03d}",
                        name=f"{community.name}第{g + 1}网格",
                        polygon=_square(lon0 + (g % 2) * 0.005, lat0 + (g // 2) * 0.005, 0.005),
                    )
                )
            names = self.rng.sample(LANE_NAMES, 3)
            for i, name in enumerate(names):
                kind = LaneKind.STREET if name.endswith("街") else LaneKind.LANE
                lanes.append(Lane(community=community, kind=kind, code=f"L{i + 1:02d}", name=name))
        Grid.objects.bulk_create(grids, batch_size=BATCH)
        Lane.objects.bulk_create(lanes, batch_size=BATCH)
        for grid in grids:
            self.grids_of.setdefault(grid.community_id, []).append(grid)
        for lane in lanes:
            self.lanes_of.setdefault(lane.community_id, []).append(lane)

    def compounds(self, communities: list[Place]) -> dict[int, list[Place]]:
        """Four compounds a community, by community."""
        compounds: list[Place] = []
        for community in communities:
            for i, name in enumerate(self.rng.sample(COMPOUND_NAMES, 4)):
                compounds.append(
                    _place(
                        PlaceKind.COMPOUND,
                        f"C{i + 1:02d}",
                        name,
                        community,
                        self.child_path(community),
                    )
                )
        compounds_of: dict[int, list[Place]] = {}
        for compound in _bulk(compounds):
            compounds_of.setdefault(compound.parent_id or 0, []).append(compound)
        return compounds_of

    def buildings(
        self, communities: list[Place], compounds_of: dict[int, list[Place]]
    ) -> list[Place]:
        """Five buildings a compound, and two straight under the community (an old
        neighbourhood)."""
        buildings: list[Place] = []
        for community in communities:
            for ci, compound in enumerate(compounds_of[community.pk]):
                buildings.extend(self._compound_buildings(community, ci, compound))
            buildings.extend(self._walk_ups(community))
        return _bulk(buildings)

    def _compound_buildings(self, community: Place, ci: int, compound: Place) -> list[Place]:
        lon0, lat0 = self.origin[community.pk]
        cgrids = self.grids_of[community.pk]
        clanes = self.lanes_of[community.pk]
        return [
            _place(
                PlaceKind.BUILDING,
                f"{b + 1}",
                f"{compound.name}{b + 1}栋",
                compound,
                self.child_path(compound),
                floors=self.rng.randint(6, 18),
                grid=cgrids[ci % 4],
                lane=clanes[(ci + b) % 3],
                lon=round(lon0 + (ci % 2) * 0.005 + 0.0008 * (b + 1) + 0.0005, 6),
                lat=round(lat0 + (ci // 2) * 0.005 + 0.002, 6),
                address=f"{clanes[(ci + b) % 3].name}{10 + ci * 10 + b}号",
            )
            for b in range(5)
        ]

    def _walk_ups(self, community: Place) -> list[Place]:
        lon0, lat0 = self.origin[community.pk]
        lane = self.lanes_of[community.pk][0]
        return [
            _place(
                PlaceKind.BUILDING,
                f"J{b + 1}",
                f"{lane.name}{b + 1}号楼",
                community,
                self.child_path(community),
                floors=5,
                grid=self.grids_of[community.pk][0],
                lane=lane,
                lon=round(lon0 + 0.0005, 6),
                lat=round(lat0 + 0.0005 * (b + 1), 6),
                address=f"{lane.name}{b + 1}号",
            )
            for b in range(2)
        ]

    def units(self, buildings: list[Place]) -> dict[int, list[Place]]:
        """Two units in each compound building (the old walk-ups have none), by building."""
        units: list[Place] = []
        for building in buildings:
            if building.code.startswith("J"):
                continue  # old walk-ups: dwellings straight under the building
            for u in range(2):
                units.append(
                    _place(
                        PlaceKind.UNIT,
                        f"{u + 1}",
                        f"{u + 1}单元",
                        building,
                        self.child_path(building),
                        grid=building.grid,
                        lane=building.lane,
                    )
                )
        units_of: dict[int, list[Place]] = {}
        for unit in _bulk(units):
            units_of.setdefault(unit.parent_id or 0, []).append(unit)
        return units_of

    def dwellings(self, buildings: list[Place], units_of: dict[int, list[Place]]) -> None:
        """Two dwellings a floor in each unit (or walk-up), written a few batches at a time."""
        dwellings: list[Place] = []
        areas = ("58.5", "72.3", "89.0", "96.4", "112.8", "135.2")
        for building in buildings:
            floors = building.floors or 1
            holders = units_of.get(building.pk) or [building]
            for u, holder in enumerate(holders):
                for floor in range(1, floors + 1):
                    for d in range(2):
                        number = f"{floor}{u * 2 + d + 1:02d}"
                        dwellings.append(
                            _place(
                                PlaceKind.DWELLING,
                                number,
                                f"{number}室",
                                holder,
                                self.child_path(holder),
                                floor=floor,
                                floor_area=Decimal(self.rng.choice(areas)),
                                grid=building.grid,
                                lane=building.lane,
                            )
                        )
                if len(dwellings) >= BATCH * 4:
                    _bulk(dwellings)
                    dwellings.clear()
        _bulk(dwellings)


@transaction.atomic
def build_demo_street(seed: int = 2026) -> Place:
    """The demo district, street and its five communities. Returns the street."""
    rng = random.Random(seed)
    district = _place(PlaceKind.DISTRICT, DISTRICT_CODE, DISTRICT_NAME, None, _root_path())
    district.save()
    street = _place(
        PlaceKind.STREET, STREET_CODE, STREET_NAME, district, district.path + segment(1)
    )
    street.save()
    plans = [
        CommunityPlan(street, f"{STREET_CODE[:9]}{i + 1:03d}", f"{name}（演示）", i)
        for i, name in enumerate(COMMUNITY_NAMES)
    ]
    build_communities(plans, rng)
    return street


def _root_path() -> str:
    last = (
        Place.objects.filter(parent__isnull=True)
        .order_by("-path")
        .values_list("path", flat=True)
        .first()
    )
    return segment(int(last) + 1 if last else 1)


@transaction.atomic
def build_scale(communities: int, seed: int = 7) -> int:
    """Add ``communities`` benchmark communities to the demo district, 50 to a street."""
    rng = random.Random(seed)
    district = Place.objects.get(kind=PlaceKind.DISTRICT, code=DISTRICT_CODE)
    existing_streets = Place.objects.filter(parent=district).count()
    made = 0
    street_no = existing_streets
    while made < communities:
        street_no += 1
        if street_no > 999:
            raise ValueError("the demo district is full (999 streets)")
        code = f"{DISTRICT_CODE}{street_no:03d}000"
        street = _place(
            PlaceKind.STREET,
            code,
            f"基准街道{street_no:03d}（演示）",
            district,
            district.path + segment(street_no),
        )
        street.save()
        batch = min(BENCH_COMMUNITIES_PER_STREET, communities - made)
        plans = [
            CommunityPlan(
                street,
                f"{code[:9]}{i + 1:03d}",
                f"基准社区{street_no:03d}-{i + 1:02d}",
                made + i + 10,
            )
            for i in range(batch)
        ]
        build_communities(plans, rng)
        made += batch
    return made
