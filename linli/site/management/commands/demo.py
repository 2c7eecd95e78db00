"""``linli demo``: the fictional demo street with one login per role.

``--if-empty`` does nothing when the database already has places (``make run`` uses it);
``--scale N`` adds N benchmark communities (about 1,000 dwellings each) for district-scale runs.
Both the demo street and the benchmark communities get invented residents (``people.demo``)
and a year of residents' cases (``cases.demo``).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from linli.accounts.actions import grant_role
from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.cases import demo as cases_demo
from linli.core import audit
from linli.network import actions as network
from linli.network import demo as network_demo
from linli.network.models import ChiefKind, Person
from linli.party import demo as party_demo
from linli.people import demo as people_demo
from linli.places import demo
from linli.places.models import Grid, Lane, Place, PlaceKind

DEMO_PASSWORD = "linli-demo-2026"  # noqa: S105 - printed for everyone: demo data only

# (username, phone, display name, role, where) — where is resolved below.
DEMO_USERS: list[tuple[str, str, str, str | None, str]] = [
    ("jiedao", "13800000001", "街道管理员 周敏", Role.STREET_ADMIN, "street"),
    ("shequ", "13800000002", "社区工作者 林晓", Role.COMMUNITY_WORKER, "community1"),
    ("wangge", "13800000003", "网格员 陈立", Role.GRID_WORKER, "grid1"),
    ("louzhang", "13800000004", "楼长 黄婶", Role.CHIEF, "building1"),
    ("xiangzhang", "13800000005", "巷长 梁伯", Role.CHIEF, "lane1"),
    ("dangyuan", "13800000006", "在职党员 吴越", Role.PARTY_MEMBER, "community1"),
    ("zhiyuan", "13800000007", "志愿者 何欣", Role.VOLUNTEER, "community1"),
    ("gongjian", "13800000008", "共建单位联络人 罗平", Role.PARTNER_CONTACT, "community1"),
    ("wuye", "13800000009", "物业 郑工", Role.PROPERTY_STAFF, "compound1"),
    ("shequ2", "13800000010", "邻社区工作者 许宁", Role.COMMUNITY_WORKER, "community2"),
    ("outsider", "13800000011", "无权限用户", None, ""),
]


class Command(BaseCommand):
    help = "Load the fictional demo street and one login per role."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--if-empty", action="store_true", help="Only load when the database has no places yet."
        )
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            help="Also add N benchmark communities (~1,000 dwellings each).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        has_demo = Place.objects.filter(kind=PlaceKind.DISTRICT, code=demo.DISTRICT_CODE).exists()
        if options["if_empty"] and Place.objects.exists():
            if has_demo:
                self.print_logins()
            return
        if not has_demo:
            with transaction.atomic():
                street = demo.build_demo_street()
                residents = people_demo.populate(people_demo.dwellings_under(street), seed=2026)
                self.make_users(street)
                cases = cases_demo.populate([street], seed=2026)
                party = party_demo.populate([street], seed=2026)
                network = network_demo.populate(
                    list(Place.objects.filter(parent=street).order_by("path")), seed=2026
                )
                self.link_chiefs()
                audit.record(None, "demo.load", street, place_path=street.path)
            self.stdout.write(
                self.style.SUCCESS(f"Demo street loaded in {time.monotonic() - started:.1f}s.")
            )
            self.print_residents(residents)
            self.print_cases(cases)
            self.print_network(network)
            self.print_party(party)
        elif not options["scale"]:
            self.stdout.write("The demo street is already loaded.")
        if options["scale"]:
            if options["scale"] < 0:
                raise CommandError("--scale takes a positive number of communities.")
            t0 = time.monotonic()
            with transaction.atomic():
                last = Place.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                made = demo.build_scale(options["scale"])
                built = time.monotonic() - t0
                new = Place.objects.filter(kind=PlaceKind.DWELLING, pk__gt=last)
                residents = people_demo.populate(new, seed=7 + last)
                communities = list(Place.objects.filter(kind=PlaceKind.COMMUNITY, pk__gt=last))
                cases = cases_demo.populate(communities, seed=7 + last)
                network = network_demo.populate(communities, seed=7 + last)
                party = party_demo.populate(communities, seed=7 + last)
            dwellings = Place.objects.filter(kind=PlaceKind.DWELLING).count()
            self.stdout.write(
                self.style.SUCCESS(
                    f"Added {made} benchmark communities in {built:.1f}s; "
                    f"{dwellings} dwellings in all."
                )
            )
            self.print_residents(residents)
            self.print_cases(cases)
            self.print_network(network)
            self.print_party(party)
        self.print_logins()

    def make_users(self, street: Place) -> None:
        community1, community2 = Place.objects.filter(parent=street).order_by("path")[:2]
        compound1 = (
            Place.objects.filter(parent=community1, kind=PlaceKind.COMPOUND)
            .order_by("path")
            .first()
        )
        building1 = (
            Place.objects.filter(parent=compound1, kind=PlaceKind.BUILDING).order_by("path").first()
        )
        targets: dict[str, dict[str, Any]] = {
            "street": {"place": street},
            "community1": {"place": community1},
            "community2": {"place": community2},
            "compound1": {"place": compound1},
            "building1": {"place": building1},
            "grid1": {"grid": Grid.objects.filter(community=community1).order_by("code").first()},
            "lane1": {"lane": Lane.objects.filter(community=community1).order_by("code").first()},
        }
        for username, phone, display, role, where in DEMO_USERS:
            user = User(username=username, phone=phone, display_name=display)
            user.set_password(DEMO_PASSWORD)
            user.save()
            if role:
                grant_role(None, user, role, **targets[where])

    def print_residents(self, summary: people_demo.Summary) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.residents} residents in {summary.households} households "
                f"({summary.dwellings} dwellings) written in {summary.seconds:.1f}s."
            )
        )

    def print_cases(self, summary: cases_demo.Summary) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.cases} cases with {summary.events} timeline events written in "
                f"{summary.seconds:.1f}s."
            )
        )

    def link_chiefs(self) -> None:
        """The demo chiefs' logins become formal chiefs of the building and lane they hold."""
        for username, kind in (("louzhang", ChiefKind.BUILDING), ("xiangzhang", None)):
            user = User.objects.get(username=username)
            grant = (
                user.grants.filter(revoked_at__isnull=True)
                .select_related("place", "lane__community")
                .first()
            )
            if grant is None:
                continue
            if grant.lane is not None:
                community = grant.lane.community
            elif grant.place is not None:
                community = Place.objects.get(path=grant.place.path[: network.COMMUNITY_PATH_LEN])
            else:
                continue
            chief_kind = kind or (
                ChiefKind.STREET if grant.lane and grant.lane.kind == "street" else ChiefKind.LANE
            )
            person = Person.objects.filter(community=community, user=user).first()
            if person is None:
                person = Person.objects.create(
                    community=community, path=community.path, name=user.display_name, user=user
                )
            chief = network.recruit_chief(None, person, chief_kind)
            network.decide(None, chief.pk, "formal")
            if grant.lane:
                network.assign(None, chief.pk, lane=grant.lane)
            else:
                network.assign(None, chief.pk, building=grant.place)

    def print_network(self, summary: network_demo.Summary) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.chiefs} chiefs, {summary.contacts} contact records reaching "
                f"{summary.reached} households written in {summary.seconds:.1f}s."
            )
        )

    def print_party(self, summary: party_demo.Summary) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary.members} party members in {summary.orgs} organisations, "
                f"{summary.posts} posts and tasks, {summary.claims} claims, "
                f"{summary.hours} service-hour records written in {summary.seconds:.1f}s."
            )
        )

    def print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        users = {
            u.username: u
            for u in User.objects.filter(username__in=[u[0] for u in DEMO_USERS]).prefetch_related(
                "grants__place", "grants__grid", "grants__lane"
            )
        }
        for username, phone, display, _role, _where in DEMO_USERS:
            user = users.get(username)
            if user is None:
                continue
            grants = [g for g in user.grants.all() if g.revoked_at is None]
            scope = "; ".join(f"{g.get_role_display()} @ {g.target}" for g in grants) or "—"
            self.stdout.write(f"  {username:<11} {phone}  {display:<14}  {scope}")
        self.stdout.write("")
