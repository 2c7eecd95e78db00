"""``linli bench``: how the scoped pages and API answer at district scale.

Builds the demo street plus ``--communities`` benchmark communities (about 1,000 dwellings each;
400 make a district of ~400,000 dwellings, a million residents' worth) unless they are there, then
times each endpoint in-process, interleaved with a trivial endpoint (``/healthz``) measured in the
same run, and prints medians and their ratio to it. Figures go to ``var/bench.json`` too. The
machines are shared and noisy: read the ratios, not the milliseconds.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.test import Client

from linli.accounts.actions import grant_role
from linli.accounts.models import User
from linli.cases.models import Case
from linli.network.models import Contact
from linli.people.models import Resident
from linli.places import demo
from linli.places.models import Grid, Place, PlaceKind


class Command(BaseCommand):
    help = "Benchmark the scoped pages and API at district scale."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--communities", type=int, default=400)
        parser.add_argument("--repeat", type=int, default=30)
        parser.add_argument(
            "--only",
            default="",
            help="Run only the cases whose label contains one of these comma-separated words.",
        )
        parser.add_argument("--out", default=str(Path(settings.VAR_DIR) / "bench.json"))

    def handle(self, *args: Any, **options: Any) -> None:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        call_command("collectstatic", interactive=False, verbosity=0)
        if not Place.objects.filter(kind=PlaceKind.DISTRICT, code=demo.DISTRICT_CODE).exists():
            call_command("demo", stdout=self.stdout)
        have = Place.objects.filter(kind=PlaceKind.COMMUNITY).count()
        want = options["communities"] + len(demo.COMMUNITY_NAMES)
        if have < want:
            t0 = time.perf_counter()
            call_command("demo", "--scale", str(want - have), stdout=self.stdout)
            self.stdout.write(f"built {want - have} communities in {time.perf_counter() - t0:.1f}s")
        dwellings = Place.objects.filter(kind=PlaceKind.DWELLING).count()
        street = Place.objects.get(kind=PlaceKind.STREET, code=demo.STREET_CODE)
        district = Place.objects.get(kind=PlaceKind.DISTRICT, code=demo.DISTRICT_CODE)
        community = Place.objects.filter(parent=street).order_by("path").first()
        assert community is not None
        building = (
            Place.objects.filter(kind=PlaceKind.BUILDING, path__startswith=community.path)
            .order_by("path")
            .first()
        )
        assert community is not None and building is not None
        dwelling = building.descendants().filter(kind=PlaceKind.DWELLING).first()
        grid = Grid.objects.filter(community=community).order_by("code").first()
        assert dwelling is not None and grid is not None

        # A district admin: the widest scope there is.
        admin, _ = User.objects.get_or_create(username="bench-district")
        grant_role(None, admin, "street_admin", place=district)
        clients = {}
        for name in ("bench-district", "shequ", "louzhang", "wangge"):
            client = Client()
            client.force_login(User.objects.get(username=name))
            clients[name] = client

        cases = [
            ("district admin: API top of scope", "bench-district", "/api/v1/places"),
            (
                "district admin: district page (counts of 400k+ places)",
                "bench-district",
                f"/places/{district.pk}/",
            ),
            (
                "district admin: API children of the district",
                "bench-district",
                f"/api/v1/places?parent={district.pk}",
            ),
            ("district admin: search by name", "bench-district", "/places/?q=锦绣花园3栋"),
            ("community worker: community page", "shequ", f"/places/{community.pk}/"),
            ("community worker: audit log", "shequ", "/audit/"),
            ("chief: building drawn as floors x units", "louzhang", f"/places/{building.pk}/"),
            ("chief: API one dwelling", "louzhang", f"/api/v1/places/{dwelling.pk}"),
            ("grid worker: grid page with map", "wangge", f"/places/grids/{grid.pk}/"),
        ]
        # The roster, when the demo has residents.
        resident = Resident.objects.filter(home__path__startswith=building.path).first()
        if resident is not None:
            cases += [
                ("district admin: resident search by name", "bench-district", "/people/?q=王秀"),
                (
                    "district admin: resident search by pinyin initials",
                    "bench-district",
                    "/people/?q=wxy",
                ),
                (
                    "community worker: resident page (logged view)",
                    "shequ",
                    f"/people/{resident.pk}/",
                ),
                (
                    "community worker: care list of the community",
                    "shequ",
                    f"/people/care/{community.pk}/",
                ),
                ("chief: building with its households", "louzhang", f"/places/{building.pk}/"),
            ]
        # Residents' cases, when the demo has them.
        case = Case.objects.filter(path__startswith=community.path).order_by("-pk").first()
        if case is not None:
            cases += [
                ("community worker: case inbox, open, overdue first", "shequ", "/cases/"),
                ("district admin: case inbox of the whole district", "bench-district", "/cases/"),
                ("community worker: one case with its timeline", "shequ", f"/cases/{case.pk}/"),
                ("community worker: the three rates, 30 days", "shequ", "/cases/rates/"),
                (
                    "district admin: the three rates of the district, 30 days",
                    "bench-district",
                    f"/cases/rates/?place={district.pk}",
                ),
                (
                    "district admin: the three rates of the district, 365 days",
                    "bench-district",
                    f"/cases/rates/?place={district.pk}&days=365",
                ),
            ]
            cases += [
                ("community worker: API case list", "shequ", "/api/v1/cases"),
                ("district admin: API case list", "bench-district", "/api/v1/cases"),
            ]
        # The network: visit coverage, when the demo has contact records.
        contacts = Contact.objects.count()
        if contacts:
            clients["jiedao"] = Client()
            clients["jiedao"].force_login(User.objects.get(username="jiedao"))
            cases += [
                (
                    "street admin: visit coverage of the street, by community",
                    "jiedao",
                    f"/network/coverage/place/{street.pk}/",
                ),
                (
                    "community worker: visit coverage of the community, by grid and building",
                    "shequ",
                    f"/network/coverage/place/{community.pk}/",
                ),
                (
                    "community worker: households nobody met, care first",
                    "shequ",
                    f"/network/coverage/place/{community.pk}/unreached/",
                ),
                ("chief: my buildings", "louzhang", "/network/mine/"),
                (
                    "district admin: visit coverage of the district, by street",
                    "bench-district",
                    f"/network/coverage/place/{district.pk}/",
                ),
            ]
            big = (
                Place.objects.filter(kind=PlaceKind.STREET)
                .exclude(pk=street.pk)
                .order_by("path")
                .first()
            )
            if big is not None:
                cases.append(
                    (
                        "district admin: visit coverage of a benchmark street, by community",
                        "bench-district",
                        f"/network/coverage/place/{big.pk}/",
                    )
                )
        cases += self._workbenches(clients, street)
        if options["only"]:
            words = [w.strip() for w in options["only"].split(",") if w.strip()]
            cases = [c for c in cases if any(w in c[0] for w in words)]
        base_client = Client()
        results = []
        for label, who, url in cases:
            client = clients[who]
            assert client.get(url).status_code == 200, url  # warm up, and check it works
            ours, base = [], []
            for _ in range(options["repeat"]):
                t0 = time.perf_counter()
                base_client.get("/healthz")
                base.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                client.get(url)
                ours.append(time.perf_counter() - t0)
            m, b = statistics.median(ours) * 1000, statistics.median(base) * 1000
            results.append(
                {
                    "case": label,
                    "url": url,
                    "median_ms": round(m, 2),
                    "baseline_ms": round(b, 2),
                    "ratio": round(m / b, 1),
                }
            )
            self.stdout.write(f"{m:8.2f} ms  ×{m / b:6.1f} of /healthz ({b:.2f} ms)  {label}")
        report = {
            "database": connection.vendor,
            "dwellings": dwellings,
            "places": Place.objects.count(),
            "cases": Case.objects.count(),
            "residents": Resident.objects.count(),
            "contacts": contacts,
            "results": results,
        }
        Path(options["out"]).parent.mkdir(parents=True, exist_ok=True)
        Path(options["out"]).write_text(json.dumps(report, ensure_ascii=False, indent=2))
        self.stdout.write(
            f"{connection.vendor}: {dwellings} dwellings, {report['residents']} residents, "
            f"{contacts} contact records; written to {options['out']}"
        )

    def _workbenches(self, clients: dict[str, Client], street: Place) -> list[tuple[str, str, str]]:
        """Each role's workbench (the home page), and a street and the district at full size."""
        others = ("jiedao", "xiangzhang", "dangyuan", "zhiyuan", "gongjian", "wuye")
        for name in others:
            if name not in clients:
                clients[name] = Client()
                clients[name].force_login(User.objects.get(username=name))
        wide = (
            Place.objects.filter(kind=PlaceKind.STREET)
            .exclude(pk=street.pk)
            .order_by("path")
            .first()
        )
        if wide is not None:
            street_admin, _ = User.objects.get_or_create(username="bench-street")
            grant_role(None, street_admin, "street_admin", place=wide)
            clients["bench-street"] = Client()
            clients["bench-street"].force_login(street_admin)
        roles = (
            ("district admin", "bench-district"),
            ("street admin (benchmark street)", "bench-street"),
            ("street admin", "jiedao"),
            ("community worker", "shequ"),
            ("grid worker", "wangge"),
            ("chief", "louzhang"),
            ("lane chief", "xiangzhang"),
            ("party member", "dangyuan"),
            ("volunteer", "zhiyuan"),
            ("partner contact", "gongjian"),
            ("property staff", "wuye"),
        )
        return [(f"{role}: workbench", who, "/") for role, who in roles if who in clients]
