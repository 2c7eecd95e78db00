"""Signed links to a place, for the pages residents open without a login (a building's QR code for
a case, a community's for the dual report): the token names the place and cannot be forged."""

from __future__ import annotations

from collections.abc import Iterable

from django.core import signing
from django.http import Http404

from linli.places.models import Place


def place_token(place: Place, salt: str) -> str:
    return signing.Signer(salt=salt).sign(str(place.pk))


def place_of_token(token: str, salt: str, kinds: Iterable[str]) -> Place:
    """The place a token names, if it is of one of ``kinds`` and still in use; otherwise 404."""
    try:
        place_id = int(signing.Signer(salt=salt).unsign(token))
    except (signing.BadSignature, ValueError) as exc:
        raise Http404 from exc
    place = Place.objects.filter(pk=place_id, kind__in=list(kinds), retired_at__isnull=True).first()
    if place is None:
        raise Http404
    return place
