"""Pages for importing and exporting the roster: upload → preview (a dry run) → confirm; the
template; and the export form."""

from __future__ import annotations

import contextlib
import secrets
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.accounts.types import AuthedRequest, Viewer
from linli.core.pages import number_param
from linli.people import exporter
from linli.people.importer import COLUMNS, REQUIRED, ImportFailed, import_roster
from linli.places.models import Place, PlaceKind
from linli.places.queries import access_place, places_for

MAX_UPLOAD = 50 * 1024 * 1024
SUFFIXES = (".xlsx", ".csv")
SESSION_KEY = "roster_imports"
EXPORT_KINDS = (PlaceKind.STREET, PlaceKind.COMMUNITY, PlaceKind.COMPOUND, PlaceKind.BUILDING)


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sweep(directory: Path) -> None:
    """Files of previews nobody confirmed go after a day: they hold personal numbers."""
    too_old = time.time() - 24 * 3600
    for stale in directory.iterdir():
        with contextlib.suppress(OSError):
            if stale.stat().st_mtime < too_old:
                stale.unlink()


def _communities(user: Viewer) -> list[Place]:
    return list(places_for(user, Cap.PEOPLE_IMPORT).filter(kind=PlaceKind.COMMUNITY)[:200])


def _pending(request: HttpRequest) -> dict[str, dict[str, Any]]:
    pending: dict[str, dict[str, Any]] = request.session.get(SESSION_KEY, {})
    return pending


def _forget(request: HttpRequest, token: str) -> None:
    pending = _pending(request)
    entry = pending.pop(token, None)
    request.session[SESSION_KEY] = pending
    if entry:
        (_upload_dir() / entry["file"]).unlink(missing_ok=True)


@login_required
@require_http_methods(["GET", "POST"])
def import_roster_page(request: AuthedRequest) -> HttpResponse:
    communities = _communities(request.user)
    if not communities:
        raise Http404
    context: dict[str, Any] = {
        "communities": communities,
        "columns": [(header, key in REQUIRED) for key, header, _a in COLUMNS],
    }
    if request.method == "GET":
        return render(request, "people/import/upload.html", context)
    if request.POST.get("token"):
        return _confirm(request, context)
    return _preview(request, context)


def _community_from(request: HttpRequest) -> Place:
    try:
        community_id = int(request.POST.get("community", ""))
    except ValueError:
        raise Http404 from None
    community = access_place(request.user, community_id, Cap.PEOPLE_IMPORT)
    if community.kind != PlaceKind.COMMUNITY:
        raise Http404
    return community


def _preview(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    community = _community_from(request)
    create_places = request.POST.get("create_places") == "on"
    context.update(community=community, create_places=create_places)
    upload = request.FILES.get("file")
    error = None
    if upload is None:
        error = _("Choose a file to upload.")
    elif Path(upload.name or "").suffix.lower() not in SUFFIXES:
        error = _("Only .xlsx and .csv files can be imported.")
    elif (upload.size or 0) > MAX_UPLOAD:
        error = _("The file is larger than 50 MB; split it into several files.")
    if error or upload is None:
        context["error"] = error
        return render(request, "people/import/upload.html", context, status=400)
    suffix = Path(upload.name or "").suffix.lower()
    token = secrets.token_hex(16)
    _sweep(_upload_dir())
    stored = _upload_dir() / f"{token}{suffix}"
    with open(stored, "wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    try:
        result = import_roster(
            stored,
            community_code=community.code,
            actor=request.user,
            create_places=create_places,
            dry_run=True,
            workers=0,
        )
    except ImportFailed as exc:
        stored.unlink(missing_ok=True)
        context["error"] = str(exc)
        return render(request, "people/import/upload.html", context, status=400)
    if result.ok:
        pending = _pending(request)
        pending[token] = {
            "file": stored.name,
            "community": community.pk,
            "create_places": create_places,
            "name": (upload.name or "")[:100],
        }
        request.session[SESSION_KEY] = pending
        context["token"] = token
    else:
        stored.unlink(
            missing_ok=True
        )  # nothing to confirm: the user fixes the file and uploads again
    context.update(result=result, file_name=upload.name)
    return render(request, "people/import/preview.html", context)


def _confirm(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    token = request.POST.get("token", "")
    entry = _pending(request).get(token)
    if entry is None:
        raise Http404
    community = access_place(request.user, entry["community"], Cap.PEOPLE_IMPORT)
    stored = _upload_dir() / entry["file"]
    try:
        result = import_roster(
            stored,
            community_code=community.code,
            actor=request.user,
            create_places=entry["create_places"],
            workers=0,
        )
    except ImportFailed as exc:
        context["error"] = str(exc)
        return render(request, "people/import/upload.html", context, status=400)
    finally:
        _forget(request, token)
    context.update(result=result, community=community, file_name=entry["name"], done=True)
    return render(request, "people/import/preview.html", context)


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponseBase:
    if scope_for(request.user, Cap.PEOPLE_IMPORT).is_empty:
        raise Http404
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    exporter.write_template(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename="roster-template.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def export_roster_page(request: AuthedRequest) -> HttpResponseBase:
    scope = scope_for(request.user, Cap.PEOPLE_VIEW)
    if scope.is_empty:
        raise Http404
    places = list(
        places_for(request.user, Cap.PEOPLE_VIEW)
        .filter(kind__in=EXPORT_KINDS)
        .order_by("path")[:300]
    )
    context: dict[str, Any] = {"places": places, "formats": exporter.FORMATS}
    if request.method == "GET":
        context["selected"] = number_param(request, "place") or 0
        return render(request, "people/import/export.html", context)
    try:
        place_id = int(request.POST.get("place", ""))
    except ValueError:
        raise Http404 from None
    place = access_place(request.user, place_id, Cap.PEOPLE_VIEW)
    fmt = request.POST.get("format", "xlsx")
    if fmt not in exporter.FORMATS:
        fmt = "xlsx"
    unmasked = request.POST.get("unmasked") == "on"
    reason = request.POST.get("reason", "")
    context.update(selected=place.pk, unmasked=unmasked, reason=reason, format=fmt)
    out = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
    try:
        exporter.export_roster(request.user, place, out, fmt, unmasked=unmasked, reason=reason)
    except ValidationError as exc:
        out.close()
        context["error"] = exc.messages[0]
        return render(request, "people/import/export.html", context, status=400)
    except PermissionDenied:
        out.close()
        context["error"] = _("Your role may not export full ID and phone numbers here.")
        return render(request, "people/import/export.html", context, status=403)
    out.seek(0)
    name = f"roster-{place.code}{'-unmasked' if unmasked else ''}.{fmt}"
    return FileResponse(out, as_attachment=True, filename=name)
