from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.core.models import AuditEntry
from linli.core.paging import page_of
from linli.core.workbench import panels_for
from linli.places.queries import grids_for, lanes_for, top_places


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    grants = (
        request.user.grants.filter(revoked_at__isnull=True)
        .select_related("place", "grid", "lane")
        .order_by("role", "id")
    )
    scope = scope_for(request.user, Cap.PLACES_VIEW)
    context = {
        "panels": panels_for(request.user),
        "grants": grants,
        "roots": top_places(request.user),
        "grids": list(grids_for(request.user).filter(pk__in=sorted(scope.grid_ids))),
        "lanes": list(lanes_for(request.user).filter(pk__in=sorted(scope.lane_ids))),
        "nothing": scope.is_empty,
    }
    return render(request, "site/home.html", context)


def audit_queryset(user: Viewer) -> QuerySet[AuditEntry]:
    scope = scope_for(user, Cap.AUDIT_VIEW)
    return AuditEntry.objects.filter(scope.path_q("place_path"))


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    if scope_for(request.user, Cap.AUDIT_VIEW).is_empty:
        raise Http404
    entries = audit_queryset(request.user)
    action = request.GET.get("action", "").strip()
    if action:
        entries = entries.filter(action=action)
    page = page_of(request, entries.order_by("-at", "-id"))
    return render(request, "site/audit.html", {"page": page, "action": action})


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For the operator's monitoring: the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok"})
