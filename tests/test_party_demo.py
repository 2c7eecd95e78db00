"""The party demo data: consistent with the rules the module enforces."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q
from stdnum.cn import uscc

from linli.party import demo
from linli.party.models import (
    Claim,
    MemberKind,
    PartyMember,
    PartyOrg,
    Post,
    Registration,
    Unit,
    UnitContact,
)
from linli.people import demo as people_demo

pytestmark = pytest.mark.django_db


def test_demo_is_consistent(world):
    people_demo.populate(people_demo.dwellings_under(world.street), seed=3)
    summary = demo.populate([world.street], seed=3)
    assert summary.members >= 4 and summary.posts == 2 * len(demo.POSTS)
    for community in (world.a.place, world.b.place):
        orgs = PartyOrg.objects.filter(community=community)
        assert orgs.filter(kind="committee").count() == 1
        compound = orgs.get(place=(world.a if community == world.a.place else world.b).compound)
        assert compound.in_compound and compound.path.startswith(community.path)
        assert not orgs.filter(secretary__isnull=True).exists()
    kinds = set(PartyMember.objects.values_list("kind", flat=True))
    assert MemberKind.DUAL_REPORT in kinds and MemberKind.REGISTERED in kinds
    # Every member row is under its community's path; compound branch members under the compound.
    for m in PartyMember.objects.select_related("org", "community"):
        assert m.path.startswith(m.community.path)
        if m.org is not None:
            assert m.path == m.org.path
    for post in Post.objects.annotate(
        live=Count("claims", filter=Q(claims__withdrawn_at__isnull=True))
    ):
        assert post.claimed == post.live <= post.capacity
    assert all(uscc.is_valid(u.uscc) for u in Unit.objects.all())
    # The fixture's logins: the party member reports here, the partner is the first unit's contact.
    assert PartyMember.objects.filter(user=world.party_member, community=world.a.place).exists()
    assert UnitContact.objects.filter(user=world.partner, community=world.a.place).exists()
    assert Registration.objects.filter(status="pending").count() == 6
    assert Claim.objects.exists()
