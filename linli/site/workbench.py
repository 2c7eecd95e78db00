"""The street's and the district's workbench panel: the headline figures of the area and its
children ranked, each figure the same one as on the page it links to.

- households and visit coverage: ``network.coverage.report`` (the coverage page), which for a
  street or a district adds up the buildings' rolled-up rows;
- cases received in the last 30 days and the three rates: ``cases.rates`` over the viewer's case
  scope (the rates page with ``?place=…&days=30``);
- party members reporting here (双报到, active): ``party.queries.members_for`` (the members page
  with ``?kind=dual_report``).
"""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.db.models.functions import Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.accounts.roles import Cap, Role
from linli.accounts.scope import scope_for
from linli.cases.rates import Rates, rates, rates_by_child, sum_rates
from linli.core.paths import SEGMENT
from linli.core.workbench import Panel, Table
from linli.network import coverage
from linli.party.models import MemberKind, MemberStatus
from linli.party.queries import members_for
from linli.places.models import Place, PlaceKind

RATES_DAYS = 30
# Children shown on the workbench; the pages behind the links show them all.
RANKED = 10


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def _areas(user: User) -> list[Place]:
    """The districts and streets the user administers."""
    ids = user.grants.filter(
        revoked_at__isnull=True, role=Role.STREET_ADMIN, place__isnull=False
    ).values_list("place_id", flat=True)
    return list(
        Place.objects.filter(
            pk__in=list(ids), kind__in=(PlaceKind.STREET, PlaceKind.DISTRICT)
        ).order_by("path")[:5]
    )


def _case_rates(user: User, area: Place) -> tuple[Rates, dict[str, Rates]]:
    """The area's rates and its children's, over the same cases the rates page counts."""
    now = timezone.now()
    start = now - datetime.timedelta(days=RATES_DAYS)
    scope_q = scope_for(user, Cap.CASES_VIEW).q()
    by_child = rates_by_child(scope_q, area.path, start, now, now=now)
    own = rates(Q(path=area.path) & scope_q, start, now, now=now)
    return sum_rates([*by_child.values(), own]), by_child


def _reported(user: User, area: Place) -> tuple[int, dict[str, int]]:
    rows = (
        members_for(user)
        .filter(
            path__gte=area.path,
            path__lt=area.path_end,
            kind=MemberKind.DUAL_REPORT,
            status=MemberStatus.ACTIVE,
        )
        .annotate(child=Substr("path", 1, len(area.path) + SEGMENT))
        .values("child")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_child = {row["child"]: row["n"] for row in rows}
    return sum(by_child.values()), by_child


def panels(user: User) -> list[Panel]:
    out = []
    for area in _areas(user):
        cover = coverage.report(area)
        total_rates, child_rates = _case_rates(user, area)
        reported, child_reported = _reported(user, area)
        coverage_url = reverse("network:coverage", args=["place", area.pk])
        rates_url = f"{reverse('cases:rates')}?place={area.pk}&days={RATES_DAYS}"
        members_url = (
            f"{reverse('party:members')}?kind={MemberKind.DUAL_REPORT}&status={MemberStatus.ACTIVE}"
        )
        figures = [
            (_("households"), f"{cover.total.households:,}", coverage_url),
            (
                _("met in %(days)s days") % {"days": cover.days},
                cover.total.percent,
                coverage_url,
            ),
            (
                _("cases in %(days)s days") % {"days": RATES_DAYS},
                f"{total_rates.received:,}",
                rates_url,
            ),
            (_("response rate"), _percent(total_rates.response), rates_url),
            (_("resolution rate"), _percent(total_rates.resolution), rates_url),
            (_("satisfaction rate"), _percent(total_rates.satisfaction), rates_url),
            (_("party members reporting here"), f"{reported:,}", members_url),
        ]
        rows = []
        for row in cover.rows:
            child = row.obj
            if not isinstance(child, Place):
                continue
            r = child_rates.get(child.path)
            rows.append(
                (
                    row.rate if row.rate is not None else 2.0,
                    child.path,
                    (
                        reverse("places:detail", args=[child.pk]),
                        (
                            child.name,
                            _("met %(rate)s") % {"rate": row.percent},
                            _("%(n)s cases") % {"n": r.received if r else 0},
                            _("resolved %(rate)s")
                            % {"rate": _percent(r.resolution if r else None)},
                            _("satisfied %(rate)s")
                            % {"rate": _percent(r.satisfaction if r else None)},
                            _("%(n)s reporting") % {"n": child_reported.get(child.path, 0)},
                        ),
                    ),
                )
            )
        rows.sort(key=lambda t: (t[0], t[1]))
        child_kind = _("streets") if area.kind == PlaceKind.DISTRICT else _("communities")
        out.append(
            Panel(
                key=f"area-{area.pk}",
                title=str(area.name),
                figures=figures,
                table=Table(
                    columns=(),
                    rows=tuple(cells for _rate, _path, cells in rows[:RANKED]),
                )
                if rows
                else None,
                note=_(
                    "The %(children)s ranked by visit coverage, lowest first. Cases and rates "
                    "are over the last %(days)s days."
                )
                % {"children": child_kind, "days": RATES_DAYS},
                actions=[
                    (_("Coverage"), coverage_url),
                    (_("The three rates"), rates_url),
                ],
                order=10,
            )
        )
    return out
