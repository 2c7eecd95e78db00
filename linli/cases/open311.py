"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2) for residents' cases.

Other programs (a WeChat mini program, a hotline's system, a neighbourhood app) list the services,
file cases and follow them. One service per active category, with the category's attributes in
its definition. A request's id is the case's public id, never its tracking code: the code is the
resident's secret, which lets them rate the case, so it goes only to the client that filed the
case (as the filing's ``token``). Reading is open to anyone and
shows no personal data: no name, no phone, no resident, and not the description either, which is
free text a resident may have filled with their own name and number (the tracking page does not
show it for the same reason). Filing needs a key (``Open311Client``), which files into one
community only, at most ``hourly_limit`` cases an hour. See docs/cases.md (Open311).

Every answer is JSON or XML by the extension; XML is built with ElementTree. Errors are the
specification's error list with the HTTP status: 400 for a bad or missing parameter (a date
outside the years that can be stored, a character no parameter may hold, an attribute of the wrong
datatype), 403 for a missing, revoked or wrong key or a place outside the key's community, 404 for
an unknown service, request, token or format, 413 for a body past Django's limits, 429 over the
hourly limit. No input answers 500.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.db import transaction
from django.db.models import Exists, ExpressionWrapper, F, FloatField, OuterRef, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from linli.core import audit
from linli.core.paths import SEGMENT, path_end
from linli.places.models import Grid, Place, PlaceKind

from . import attributes, workflow
from .models import (
    LIST_DATATYPES,
    OPEN_STATES,
    Case,
    Category,
    CategoryAttribute,
    Channel,
    Open311Client,
    State,
    category_label,
)
from .moments import NotAMoment, parse_moment, shift
from .open311_keys import client_for_key
from .public import TooManyGuesses, case_by_code

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-04T00:00:00+08:00"  # when these endpoints last changed shape
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
MAX_RESULTS = 1000
SPAN = datetime.timedelta(days=90)  # the default window, and the widest one may ask for
WINDOW = datetime.timedelta(hours=1)  # the rate limit counts filings per key in this window
# A building's or compound's address_id is its place id: short, unique, and unchanged when the
# building is renamed or its path is renumbered. The places API and pages show the same id.
MEDIA_URL_MAX = 500
# Bounds on what a client sends, checked before anything reaches the database.
PARAMETER_MAX = 10000  # characters in one parameter (a description is at most 4,000)
SERVICE_CODES_MAX = 100  # service_code values in one list query
PUBLIC_ID = re.compile(r"[0-9a-f]{16}")
ADDRESS_ID = re.compile(r"[0-9]{1,18}")  # a place id: ASCII digits, always inside 64 bits
# attribute[CODE] and, for a multivaluelist, attribute[CODE][]
ATTRIBUTE = re.compile(r"attribute\[([^\[\]]{1,40})\](\[\])?")

# In XML a list becomes a parent element with one child per item, named here.
ITEM_TAGS = {
    "endpoints": "endpoint",
    "formats": "format",
    "services": "service",
    "attributes": "attribute",
    "values": "value",
    "service_requests": "request",
    "errors": "error",
}
# Characters XML 1.0 cannot carry at all, even escaped (a code sent back in an error may hold them).
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Our field names in intake errors, as the client's parameters.
PARAMETERS = {
    "category": "service_code",
    "place": "address_id",
    "reporter_phone": "phone",
    "reporter_name": "first_name",
}


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str, headers: dict[str, str] | None = None):
        super().__init__(descriptions)
        self.status = status
        self.descriptions = descriptions
        self.headers = headers or {}


# --- rendering --------------------------------------------------------------------------------


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, list):
        for item in value:
            element.append(_element(ITEM_TAGS[tag], item))
    elif isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = XML_INVALID.sub("", str(value))
    return element


def render(fmt: str, root: str, payload: Any, status: int = 200) -> HttpResponse:
    """``payload`` as JSON, or as XML under ``root`` (a list's items named by ``ITEM_TAGS``)."""
    if fmt == "xml":
        body = ET.tostring(_element(root, payload), encoding="utf-8", xml_declaration=True)
    else:
        body = json.dumps(payload, ensure_ascii=False).encode()
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(
    fmt: str, status: int, descriptions: Iterable[str], headers: dict[str, str] | None = None
) -> HttpResponse:
    errors = [{"code": status, "description": str(d)} for d in descriptions]
    response = render(fmt, "errors", errors, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _format_error(fmt: str) -> HttpResponse:
    return error_response(
        "json", 404, [_("Unknown format “%(format)s”: use .json or .xml.") % {"format": fmt}]
    )


def endpoint(*methods: str) -> Callable[..., Callable[..., HttpResponse]]:
    """Checks the format and the method, and turns an ``Open311Error`` into the error list."""
    allowed = {*methods, "HEAD"} if "GET" in methods else set(methods)

    def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def inner(request: HttpRequest, *args: Any, fmt: str, **kwargs: Any) -> HttpResponse:
            fmt = fmt.lower()
            if fmt not in CONTENT_TYPES:
                return _format_error(fmt)
            if request.method not in allowed:
                return error_response(
                    fmt,
                    405,
                    [_("Method %(method)s is not allowed here.") % {"method": request.method}],
                    {"Allow": ", ".join(sorted(allowed))},
                )
            try:
                _check_input(request, kwargs)
                return view(request, fmt, *args, **kwargs)
            except Open311Error as exc:
                return error_response(fmt, exc.status, exc.descriptions, exc.headers)

        return inner

    return wrap


def _parameters(request: HttpRequest) -> list[QueryDict]:
    """The query and, for a POST, the body, parsed here so that a body past Django's limits (size,
    number of fields) or a broken multipart one is answered in the error list."""
    try:
        return [request.GET, request.POST] if request.method == "POST" else [request.GET]
    except RequestDataTooBig as exc:
        raise Open311Error(413, _("The request is too large.")) from exc
    except (SuspiciousOperation, MultiPartParserError) as exc:
        raise Open311Error(400, _("The request's parameters could not be read.")) from exc


def _check_input(request: HttpRequest, path: dict[str, Any]) -> None:
    """Refuses a parameter holding a control character (PostgreSQL cannot store NUL, XML cannot
    carry most of them) or longer than ``PARAMETER_MAX``; a path holding one names nothing."""
    if any(XML_INVALID.search(str(value)) for value in path.values()):
        raise Open311Error(404, _("There is nothing at this address."))  # no code or id has one
    pairs: list[tuple[str, str]] = []
    for query in _parameters(request):
        pairs += [(name, value) for name, values in query.lists() for value in [name, *values]]
    for name, value in pairs:
        if XML_INVALID.search(value):
            raise Open311Error(
                400,
                _("Parameter %(name)s holds a character that is not allowed.")
                % {"name": XML_INVALID.sub("", name)[:40]},
            )
        if len(value) > PARAMETER_MAX:
            raise Open311Error(
                400,
                _("Parameter %(name)s is longer than %(n)s characters.")
                % {"name": name[:40], "n": PARAMETER_MAX},
            )


def _when(value: datetime.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


# --- discovery and services -------------------------------------------------------------------


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    services = reverse("open311:services", kwargs={"fmt": "json"})
    url = request.build_absolute_uri(services.rsplit("/", 1)[0])
    payload = {
        "changeset": CHANGESET,
        "contact": getattr(settings, "LINLI_OPEN311_CONTACT", "")
        or _("Ask the community office that gave you your key."),
        "key_service": getattr(settings, "LINLI_OPEN311_KEY_SERVICE", "")
        or _("Keys are issued by the operator of this site, one for each program and community."),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", payload)


def _service(category: Any, children: dict[int, list[str]]) -> dict[str, Any]:
    parent = category.parent
    keywords = [category.code, *([parent.code] if parent else []), *children.get(category.pk, [])]
    return {
        "service_code": category.code,
        "service_name": category_label(category),
        "description": _("Answered within %(hours)s hours, resolved within %(days)s days.")
        % {"hours": category.response_hours, "days": category.resolve_days},
        "metadata": category.has_attributes,  # its definition lists attributes
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": category_label(parent) if parent else category_label(category),
    }


@endpoint("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    asks = CategoryAttribute.objects.filter(category=OuterRef("pk"))
    categories = list(
        Category.objects.filter(active=True)
        .select_related("parent")
        .annotate(has_attributes=Exists(asks))
        .order_by("order", "code")
    )
    children: dict[int, list[str]] = {}
    for category in categories:
        if category.parent_id is not None:
            children.setdefault(category.parent_id, []).append(category.code)
    return render(fmt, "services", [_service(c, children) for c in categories])


def _active_category(code: str) -> Category:
    code = code.strip()
    category = Category.objects.filter(code=code, active=True).first() if len(code) <= 40 else None
    if category is None:
        raise Open311Error(
            404, _("service_code “%(code)s” was not found.") % {"code": code.strip()[:40]}
        )
    return category


def _attribute(attribute: CategoryAttribute) -> dict[str, Any]:
    """One attribute with the specification's fields; ``values`` for the two list datatypes."""
    item: dict[str, Any] = {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": attribute.order,
        "description": attribute.description,
    }
    if attribute.datatype in LIST_DATATYPES:
        item["values"] = [{"key": v.key, "name": v.name} for v in attribute.values.all()]
    return item


@endpoint("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    category = _active_category(code)
    asked = [_attribute(a) for a in attributes.definitions(category)]
    return render(fmt, "service_definition", {"service_code": category.code, "attributes": asked})


# --- reading requests -------------------------------------------------------------------------


def _status_notes(case: Case) -> str:
    if case.state == State.REJECTED:
        return case.reject_reason
    if case.state == State.MERGED and case.merged_into is not None:
        return _("Merged into request %(code)s; follow that one.") % {
            "code": case.merged_into.public_id
        }
    if case.state in (State.RESOLVED, State.RATED, State.CLOSED):
        return case.resolution
    return ""


def _request_item(case: Case, agencies: dict[str, str]) -> dict[str, Any]:
    """One case as a service request: nothing about who raised it, nor what they wrote."""
    place = case.place
    return {
        "service_request_id": case.public_id,
        "status": "open" if case.state in OPEN_STATES else "closed",
        "status_notes": _status_notes(case),
        "service_name": category_label(case.category),
        "service_code": case.category.code,
        "agency_responsible": agencies.get(case.path[: 3 * SEGMENT], ""),
        "requested_datetime": _when(case.received_at),
        "updated_datetime": _when(case.updated_at),
        "expected_datetime": _when(case.resolve_by or case.respond_by),
        "address": place.name,
        "address_id": str(place.pk),
        "lat": place.lat,
        "long": place.lon,
        "media_url": "",
    }


def _render_requests(fmt: str, cases: list[Case]) -> HttpResponse:
    # The community answers for a case: districts, streets and communities are always the top
    # three levels of the tree, so its path is the first three segments of the case's.
    community_paths = {case.path[: 3 * SEGMENT] for case in cases}
    agencies = dict(
        Place.objects.filter(path__in=community_paths, kind=PlaceKind.COMMUNITY).values_list(
            "path", "name"
        )
    )
    return render(fmt, "service_requests", [_request_item(c, agencies) for c in cases])


def _cases() -> QuerySet[Case]:
    return Case.objects.select_related("category", "place", "merged_into")


def _codes(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def _public_ids(raw: str) -> list[str]:
    """The public ids in a comma-separated list; anything not of their form cannot name a case."""
    ids = [part.strip().lower() for part in _codes(raw)]
    return [i for i in ids if PUBLIC_ID.fullmatch(i)]


def _parse_when(query: Any, name: str, *, end: bool) -> datetime.datetime | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        return parse_moment(raw, end=end)
    except NotAMoment as exc:
        raise Open311Error(
            400,
            _("%(name)s is not a date and time (ISO 8601, e.g. 2026-01-31T08:00:00+08:00).")
            % {"name": name},
        ) from exc
    except ValueError as exc:
        raise Open311Error(
            400, _("%(name)s is outside the years 1 to 9999.") % {"name": name}
        ) from exc


def _date_range(query: Any) -> tuple[datetime.datetime, datetime.datetime]:
    start = _parse_when(query, "start_date", end=False)
    end = _parse_when(query, "end_date", end=True)
    if start is not None and end is not None:
        if end < start:
            raise Open311Error(400, _("end_date is before start_date."))
        if end - start > SPAN:
            raise Open311Error(400, _("start_date and end_date may be at most 90 days apart."))
        return start, end
    if start is not None:
        return start, shift(start, SPAN)
    if end is not None:
        return shift(end, -SPAN), end
    now = timezone.now()
    return now - SPAN, now


def _search(query: Any) -> list[Case]:
    raw_ids = query.get("service_request_id", "")
    if _codes(raw_ids):
        # Given ids, the other filters are ignored (as the specification says).
        if len(_codes(raw_ids)) > MAX_RESULTS:
            raise Open311Error(
                400, _("At most %(n)s service_request_id at once.") % {"n": MAX_RESULTS}
            )
        qs = _cases().filter(public_id__in=_public_ids(raw_ids))
        return list(qs.order_by("-received_at", "-id")[:MAX_RESULTS])
    start, end = _date_range(query)
    qs = _cases().filter(received_at__gte=start, received_at__lte=end)
    codes = _codes(query.get("service_code", ""))
    if len(codes) > SERVICE_CODES_MAX:
        raise Open311Error(400, _("At most %(n)s service_code at once.") % {"n": SERVICE_CODES_MAX})
    if codes:
        known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise Open311Error(
                404,
                *(_("service_code “%(code)s” was not found.") % {"code": c[:40]} for c in unknown),
            )
        qs = qs.filter(category__code__in=codes)
    statuses = {s.lower() for s in _codes(query.get("status", ""))}
    if statuses - {"open", "closed"}:
        raise Open311Error(400, _("status is open or closed (or both, comma separated)."))
    if statuses == {"open"}:
        qs = qs.filter(state__in=OPEN_STATES)
    elif statuses == {"closed"}:
        qs = qs.exclude(state__in=OPEN_STATES)
    return list(qs.order_by("-received_at", "-id")[:MAX_RESULTS])


@endpoint("GET")
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    wanted = request_id.strip().lower()
    case = _cases().filter(public_id=wanted).first() if PUBLIC_ID.fullmatch(wanted) else None
    if case is None:
        raise Open311Error(
            404, _("service_request_id “%(id)s” was not found.") % {"id": request_id[:20]}
        )
    return _render_requests(fmt, [case])


@endpoint("GET")
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """A filing's token is the case's tracking code, given only to the client that filed it (to
    hand to the resident); looking it up gives the public ``service_request_id``. Whoever holds
    a code learns nothing more here than on the tracking page."""
    try:
        case = case_by_code(token)
    except TooManyGuesses:
        raise Open311Error(
            429, _("Too many wrong tracking codes from here; try again in an hour.")
        ) from None
    if case is None:
        raise Open311Error(404, _("token “%(token)s” was not found.") % {"token": token[:20]})
    return render(
        fmt, "service_requests", [{"service_request_id": case.public_id, "token": case.code}]
    )


# --- filing -----------------------------------------------------------------------------------


def _inside(place: Place, community: Place) -> bool:
    return community.path <= place.path < path_end(community.path)


def _outside(community: Place) -> Open311Error:
    return Open311Error(
        403, _("This key files only into %(community)s.") % {"community": community.name}
    )


def _ring_contains(ring: list[Any], lon: float, lat: float) -> bool:
    inside = False
    for (x1, y1, *_rest), (x2, y2, *_rest2) in zip(ring, ring[-1:] + ring[:-1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def polygon_contains(polygon: Any, lon: float, lat: float) -> bool:
    """Whether a GeoJSON Polygon (or MultiPolygon) contains the point, holes excepted."""
    if not isinstance(polygon, dict):
        return False
    kind, coordinates = polygon.get("type"), polygon.get("coordinates")
    polygons = [coordinates] if kind == "Polygon" else coordinates if kind == "MultiPolygon" else []
    try:
        for rings in polygons or []:
            if (
                rings
                and _ring_contains(rings[0], lon, lat)
                and not any(_ring_contains(hole, lon, lat) for hole in rings[1:])
            ):
                return True
    except (TypeError, ValueError, ZeroDivisionError):
        return False  # a malformed polygon contains nothing
    return False


def _coordinate(raw: str, name: str, limit: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise Open311Error(400, _("%(name)s is not a valid coordinate.") % {"name": name})
    return value


def _by_address_id(raw: str) -> Place:
    place = None
    if ADDRESS_ID.fullmatch(raw):
        place = Place.objects.filter(
            pk=int(raw), kind__in=workflow.CASE_PLACE_KINDS, retired_at__isnull=True
        ).first()
    if place is None:
        raise Open311Error(
            400, _("No building or compound has address_id “%(id)s”.") % {"id": raw[:20]}
        )
    return place


def _by_position(community: Place, raw_lat: str, raw_long: str) -> Place:
    if not raw_lat or not raw_long:
        raise Open311Error(400, _("Give both lat and long."))
    lat = _coordinate(raw_lat, "lat", 90)
    lon = _coordinate(raw_long, "long", 180)
    grids = Grid.objects.filter(community=community, polygon__isnull=False).only("polygon")
    grid = next((g for g in grids if polygon_contains(g.polygon, lon, lat)), None)
    if grid is None:
        others = (
            Grid.objects.filter(polygon__isnull=False)
            .exclude(community=community)
            .only("polygon")
            .iterator()
        )
        if any(polygon_contains(g.polygon, lon, lat) for g in others):
            raise _outside(community)
        raise Open311Error(
            400,
            _(
                "No grid of %(community)s contains this position; give address_id or "
                "address_string instead."
            )
            % {"community": community.name},
        )
    # The nearest building of the grid, by distance on a local flat map (a degree of longitude
    # shrinks with the cosine of the latitude), computed in the query.
    shrink = math.cos(math.radians(lat)) ** 2
    distance = ExpressionWrapper(
        (F("lon") - lon) * (F("lon") - lon) * shrink + (F("lat") - lat) * (F("lat") - lat),
        output_field=FloatField(),
    )
    building = (
        Place.objects.filter(
            grid=grid,
            kind=PlaceKind.BUILDING,
            retired_at__isnull=True,
            lat__isnull=False,
            lon__isnull=False,
            path__gte=community.path,
            path__lt=path_end(community.path),
        )
        .annotate(distance=distance)
        .order_by("distance", "pk")
        .first()
    )
    if building is None:
        raise Open311Error(
            400,
            _(
                "No building in the grid at this position has a known position; give "
                "address_id or address_string instead."
            ),
        )
    return building


def _squeeze(text: str) -> str:
    return "".join(text.split()).casefold()


def _by_address_string(community: Place, address: str) -> Place:
    """The building or compound of the community whose name (or address, or compound and
    building name together) is the longest one found in the text; a tie is refused."""
    wanted = _squeeze(address)
    candidates = list(
        Place.objects.filter(
            path__gte=community.path,
            path__lt=path_end(community.path),
            kind__in=workflow.CASE_PLACE_KINDS,
            retired_at__isnull=True,
        ).only("kind", "name", "address", "parent_id", "path")
    )
    compounds = {p.pk: p.name for p in candidates if p.kind == PlaceKind.COMPOUND}
    best: list[Place] = []
    best_score = 1  # a one-character name ("1") would match almost anything
    for place in candidates:
        labels = [place.name, place.address]
        if place.parent_id in compounds:
            labels.append(compounds[place.parent_id] + place.name)
        score = max((len(s) for s in map(_squeeze, labels) if s and s in wanted), default=0)
        if score > best_score:
            best, best_score = [place], score
        elif score == best_score and best:
            best.append(place)
    if len(best) != 1:
        message = (
            _("No building or compound of %(community)s matches address_string.")
            if not best
            else _("Several buildings match address_string; give address_id instead.")
        )
        raise Open311Error(400, message % {"community": community.name})
    return best[0]


def _locate(client: Open311Client, data: Any) -> Place:
    community = client.community
    address_id = data.get("address_id", "").strip()
    raw_lat, raw_long = data.get("lat", "").strip(), data.get("long", "").strip()
    address = data.get("address_string", "").strip()
    if address_id:
        place = _by_address_id(address_id)
    elif raw_lat or raw_long:
        place = _by_position(community, raw_lat, raw_long)
    elif address:
        place = _by_address_string(community, address)
    else:
        raise Open311Error(400, _("Say where: address_id, lat and long, or address_string."))
    if not _inside(place, community):
        raise _outside(community)
    return place


def _reporter_name(data: Any) -> str:
    first = " ".join(data.get("first_name", "").split())
    last = " ".join(data.get("last_name", "").split())
    if any(ord(ch) > 127 for ch in first + last):
        return last + first  # 王 + 小明: a Chinese name is family name first, without a space
    return " ".join(part for part in (first, last) if part)


def _description(data: Any) -> str:
    description = str(data.get("description", "")).strip()
    media_url = data.get("media_url", "").strip()
    # A photo's address is kept as a line of the description for the worker; we fetch nothing.
    if media_url.startswith(("http://", "https://")) and len(media_url) <= MEDIA_URL_MAX:
        line = _("Photo: %(url)s") % {"url": media_url}
        if len(description) + len(line) + 1 <= 4000:
            description = f"{description}\n{line}" if description else line
    return description


def _validation_messages(exc: ValidationError) -> list[str]:
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    return [
        f"{PARAMETERS.get(field, field)}: {message}"
        for field, messages in exc.message_dict.items()
        for message in messages
    ]


def _attributes(data: QueryDict) -> dict[str, list[str]]:
    """``attribute[CODE]`` (and ``attribute[CODE][]`` for several values) by code."""
    given: dict[str, list[str]] = {}
    for name, values in data.lists():
        found = ATTRIBUTE.fullmatch(name)
        if found:
            given.setdefault(found.group(1), []).extend(values)
    return given


def _client(data: Any) -> Open311Client:
    key = data.get("api_key", "")
    if not key.strip():
        raise Open311Error(403, _("api_key is required to file a request."))
    client = client_for_key(key)
    if client is None:
        raise Open311Error(403, _("api_key is not valid, or has been revoked."))
    if client.community.retired_at is not None:
        raise _outside(client.community)
    return client


def _file(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.content_type == "application/json":
        raise Open311Error(
            400, _("Send the parameters form-encoded (application/x-www-form-urlencoded).")
        )
    data = request.POST
    client = _client(data)
    code = data.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, _("service_code is required."))
    category = _active_category(code)
    place = _locate(client, data)
    # email is not kept; the attributes are checked against the service's definition.
    intake = workflow.Intake(
        channel=Channel.OPEN311,
        category=category,
        place=place,
        description=_description(data),
        reporter_name=_reporter_name(data),
        reporter_phone=data.get("phone", ""),
        attributes=_attributes(data),
    )
    try:
        with transaction.atomic():
            # The row lock makes the count exact when one key files from many processes at once.
            locked = Open311Client.objects.select_for_update().get(pk=client.pk)
            now = timezone.now()
            if locked.window_started_at is None or locked.window_started_at <= now - WINDOW:
                locked.window_started_at, locked.window_count = now, 0
            if locked.window_count >= locked.hourly_limit:
                wait = locked.window_started_at + WINDOW - now
                raise Open311Error(
                    429,
                    _("This key has filed %(n)s requests this hour, its limit; try again later.")
                    % {"n": locked.window_count},
                    headers={"Retry-After": str(max(1, math.ceil(wait.total_seconds())))},
                )
            case = workflow.take_in(None, intake, now=now)
            locked.window_count += 1
            locked.last_used_at = now
            locked.save(update_fields=["window_started_at", "window_count", "last_used_at"])
            audit.record(
                None,
                "open311.file",
                case,
                place_path=case.path,
                data={"client": locked.pk, "name": locked.name, "key": locked.key_prefix},
            )
    except ValidationError as exc:
        raise Open311Error(400, *_validation_messages(exc)) from exc
    notice = _("The community answers within %(hours)s hours.") % {"hours": category.response_hours}
    return render(
        fmt,
        "service_requests",
        [
            {
                "service_request_id": case.public_id,
                # The resident's tracking code, for this client only: it follows and rates the
                # case at /r/t/<token>/. Nothing public shows it.
                "token": case.code,
                "service_notice": notice,
                "account_id": None,
            }
        ],
    )


@csrf_exempt  # an API authenticated by api_key, with no session: CSRF does not apply
@endpoint("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _file(request, fmt)
    return _render_requests(fmt, _search(request.GET))


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    fmt = "xml" if request.path.endswith(".xml") else "json"
    return error_response(fmt, 404, [_("There is nothing at this address.")])
