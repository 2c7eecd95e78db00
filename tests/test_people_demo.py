"""Demo residents: an honest roster for the demo street, valid and unique identifiers, one head
per household, the same people for the same seed, and the demo logins still working."""

from __future__ import annotations

import datetime
from collections import Counter

import pytest
from django.core.management import call_command
from django.db.models import Count, Q
from django.test import Client
from stdnum.cn import ric

from linli.accounts.models import User
from linli.core.crypto import blind, keyring
from linli.core.identifiers import parse_citizen_id, parse_mobile
from linli.people import actions, demo
from linli.people.models import Membership, Resident, ResidentTag, Status
from linli.people.pinyin import name_keys
from linli.people.queries import search, years_ago
from linli.places.models import Place, PlaceKind
from tests.conftest import demo_loaded_once, valid_id

pytestmark = pytest.mark.django_db

STREET = "440199001000"


@pytest.fixture(scope="class")
def demo_output(django_db_setup, django_db_blocker):
    """Class-scoped: only the tests of ``TestTheDemoStreet`` below share the loaded demo."""
    yield from demo_loaded_once(django_db_blocker)


class TestTheDemoStreet:
    """The tests that read the demo street: it is loaded once for the class (see conftest)."""

    @pytest.fixture
    def demo_street(self, demo_output) -> Place:
        assert "residents in" in demo_output
        return Place.objects.get(kind=PlaceKind.STREET, code=STREET)

    def test_the_demo_street_has_an_honest_roster(self, demo_street):
        dwellings = demo.dwellings_under(demo_street).count()
        everyone = Resident.objects.filter(home__path__gte=demo_street.path)
        active = everyone.filter(status=Status.ACTIVE)
        n = active.count()
        assert 2.2 <= n / dwellings <= 2.8  # about 2.5 a dwelling
        elderly = active.filter(birth_date__lte=years_ago(60)).count()
        assert 0.15 <= elderly / n <= 0.25  # about one in five aged 60+
        children = active.filter(birth_date__gt=years_ago(14)).count()
        assert 0.10 <= children / n <= 0.25
        alone = ResidentTag.objects.filter(tag__code="living_alone", resident__status=Status.ACTIVE)
        assert 0.05 <= alone.count() / elderly <= 0.11  # about 8% of the 60+ live alone
        # … and they really do: the only active member of their dwelling, and aged 60+.
        lonely = alone.values_list("resident__home_id", flat=True)
        sizes = Counter(
            Membership.objects.filter(until__isnull=True, dwelling_id__in=lonely).values_list(
                "dwelling_id", flat=True
            )
        )
        assert set(sizes.values()) == {1}
        assert not alone.filter(resident__birth_date__gt=years_ago(60)).exists()
        tags = Counter(ResidentTag.objects.values_list("tag__code", flat=True))
        for code in ("hardship", "disabled", "veteran", "party_member", "empty_nest"):
            assert tags[code] > 10, code
        # Some dwellings stand empty, some hold one person.
        people = Counter(
            Membership.objects.filter(until__isnull=True).values_list("dwelling_id", flat=True)
        )
        assert 0.05 <= 1 - len(people) / dwellings <= 0.15
        assert sum(1 for size in people.values() if size == 1) > 300
        kinds = Counter(active.values_list("residence_type", flat=True))
        assert kinds["registered"] + kinds["resident"] > 0.6 * n
        assert kinds["floating"] > 0.05 * n and 0 < kinds["commuting"] < 0.05 * n
        relations = Counter(Membership.objects.values_list("relation", flat=True))
        assert {"owner", "family", "tenant"} <= set(relations)
        # Moved out and deceased are kept, their ties ended, their home still recorded.
        gone = everyone.exclude(status=Status.ACTIVE)
        assert {Status.MOVED_OUT, Status.DECEASED} <= set(gone.values_list("status", flat=True))
        assert not gone.filter(Q(status_date=None) | Q(home=None)).exists()
        assert not Membership.objects.filter(resident__in=gone, until=None).exists()
        # Names are Chinese, with surnames that have two readings among them.
        surnames = {name[0] for name in everyone.values_list("name", flat=True)}
        assert {"单", "曾", "陈"} <= surnames

    def test_identifiers_are_valid_unique_and_stored_as_the_actions_store_them(self, demo_street):
        numbers, phones = set(), 0
        for r in Resident.objects.all():
            cid = parse_citizen_id(r.id_number)  # raises on a bad check digit or birth date
            assert ric.calc_check_digit(r.id_number) == r.id_number[-1]
            assert (cid.birth_date, cid.gender) == (r.birth_date, r.gender), r.pk
            assert r.id_number[:2] in {"44", "43", "45", "36", "42", "51", "35", "41"}
            assert r.id_index == blind(r.id_number, "id:citizen_id")
            numbers.add(r.id_number)
            if r.phone:
                phones += 1
                assert parse_mobile(r.phone) == r.phone and r.phone.startswith("+86199")
                assert r.phone_index == blind(r.phone, "phone")
            else:
                assert r.phone_index == ""
            assert (r.name_pinyin, r.name_initials) == name_keys(r.name)
        total = Resident.objects.count()
        assert len(numbers) == total
        assert 0.6 * total < phones < total  # children have none
        # What the search finds, through the blind indexes and the pinyin keys.
        worker = User.objects.get(username="shequ")  # community 1
        community1 = Place.objects.filter(parent=demo_street).order_by("path").first()
        assert community1 is not None
        someone = (
            Resident.objects.filter(
                home__path__gte=community1.path, home__path__lt=community1.path_end
            )
            .exclude(phone_index="")
            .last()
        )
        assert someone is not None
        assert [r.pk for r in search(worker, someone.phone[3:])] == [someone.pk]
        assert [r.pk for r in search(worker, someone.id_number)] == [someone.pk]
        shan = Resident.objects.filter(name__startswith="单").first()
        assert shan is not None and "shan" in shan.name_pinyin and "dan" in shan.name_pinyin

    def test_every_inhabited_dwelling_has_exactly_one_head(self, demo_street):
        per_dwelling = (
            Membership.objects.filter(until__isnull=True)
            .values("dwelling_id")
            .annotate(heads=Count("id", filter=Q(is_head=True)), members=Count("id"))
        )
        assert len(per_dwelling) > 4000
        assert {row["heads"] for row in per_dwelling} == {1}
        # Every active resident is tied to their home; nobody who left is anyone's head.
        active = Resident.objects.filter(status=Status.ACTIVE)
        tied = Membership.objects.filter(until__isnull=True).values("resident_id")
        assert not active.exclude(pk__in=tied).exists()
        assert not Membership.objects.filter(is_head=True).exclude(until=None).exists()

    def test_demo_logins_still_work_and_see_their_own_residents(self, demo_street):
        from linli.site.management.commands.demo import DEMO_PASSWORD, DEMO_USERS

        for _username, phone, *_rest in DEMO_USERS:
            response = Client().post(
                "/accounts/login/", {"login": phone, "password": DEMO_PASSWORD}
            )
            assert response.status_code == 302, phone

        def listing(username: str) -> dict:
            client = Client()
            client.force_login(User.objects.get(username=username))
            return client.get("/api/v1/residents?limit=5").json()

        community1, community2 = Place.objects.filter(parent=demo_street).order_by("path")[:2]
        in_community1 = Resident.objects.filter(
            home__path__gte=community1.path, home__path__lt=community1.path_end
        ).count()
        assert listing("shequ")["count"] == in_community1 > 1000
        chief = listing("louzhang")
        assert 0 < chief["count"] < 400  # one building
        assert all("*" in r["id_number_masked"] for r in chief["items"])
        assert (
            listing("shequ2")["count"]
            == Resident.objects.filter(
                home__path__gte=community2.path, home__path__lt=community2.path_end
            ).count()
        )
        outsider = Client()
        outsider.force_login(User.objects.get(username="outsider"))
        assert outsider.get("/api/v1/residents").status_code == 404

    def test_scale_adds_residents_to_the_new_communities(self, demo_street, capsys):
        before = Resident.objects.count()
        call_command("demo", "--scale", "1")
        assert "residents in" in capsys.readouterr().out
        bench = Place.objects.get(kind=PlaceKind.STREET, code="440199002000")
        new = Resident.objects.filter(home__path__gte=bench.path, home__path__lt=bench.path_end)
        dwellings = demo.dwellings_under(bench).count()
        assert Resident.objects.count() == before + new.count()
        assert 2.2 <= new.filter(status=Status.ACTIVE).count() / dwellings <= 2.8
        # Numbers stay unique across the two runs (the constraint would refuse a duplicate).
        assert Resident.objects.values("id_index").distinct().count() == Resident.objects.count()


def test_the_same_seed_gives_the_same_people(world):
    def people(place: Place) -> list[tuple]:
        return list(
            Resident.objects.filter(home__path__gte=place.path, home__path__lt=place.path_end)
            .order_by("id")
            .values_list("name", "gender", "birth_date", "residence_type", "status")
        )

    a = demo.populate(demo.dwellings_under(world.a.place), seed=42)
    b = demo.populate(demo.dwellings_under(world.b.place), seed=42)
    assert a.residents == b.residents > 5
    assert people(world.a.place) == people(world.b.place)
    # Dwellings someone lives in are left alone: a second run only fills the empty ones.
    lived_in = (
        Membership.objects.filter(until=None, dwelling__in=demo.dwellings_under(world.a.place))
        .values("dwelling_id")
        .distinct()
        .count()
    )
    again = demo.populate(demo.dwellings_under(world.a.place), seed=1)
    assert again.dwellings == 6 - lived_in


def test_numbers_already_held_are_not_issued_again(world):
    """A number typed in by a worker may sit where the demo would issue one: the demo moves on."""
    dwellings = list(
        demo.dwellings_under(world.a.place).order_by("path").values_list("pk", flat=True)
    )
    # Where the first demo resident would be born, and which county their number names.
    probe = demo.ResidentGenerator(seed=3, as_of=min(demo.AS_OF, datetime.date.today()))
    probe.household(dwellings[0])
    while not probe.residents:  # the first dwelling drew vacant: try the next
        dwellings.pop(0)
        probe = demo.ResidentGenerator(seed=3, as_of=min(demo.AS_OF, datetime.date.today()))
        probe.household(dwellings[0])
    first = probe.residents[0]
    birth, sex = first[5], first[4]
    region = keyring().decrypt(first[8])[:6]
    # Someone already holds the number the demo would issue next for that birth date and sex:
    # with one number held there, the demo's next is the second (k=1).
    held = valid_id(f"{region}{birth:%Y%m%d}{demo.sequence(1, birth, sex)}")
    actions.create_resident(None, {"name": "先登记", "id_number": held}, home=world.b.dwelling)
    made = demo.populate(dwellings, seed=3)
    assert made.residents > 0
    numbers = [r.id_number for r in Resident.objects.order_by("id")]
    assert len(numbers) == len(set(numbers))
    assert numbers[0] == held and held not in numbers[1:]
    demo_first = Resident.objects.order_by("id")[1]
    assert (demo_first.birth_date, demo_first.gender) == (birth, sex)
