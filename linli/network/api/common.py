"""What the network's resources share: the 404 for users outside any network, the community a new
person, association or team belongs to, and times without an offset."""

import datetime

from django.http import Http404
from django.utils import timezone

from linli.accounts.models import User
from linli.accounts.roles import Cap
from linli.accounts.types import AuthedRequest
from linli.places.models import Place
from linli.places.queries import access_place

from .. import actions, queries


def require_network(request: AuthedRequest) -> None:
    """Lists answer 404 to a user who may see no part of any network, like the pages do."""
    if not queries.sees_network(request.user):
        raise Http404


def aware(moment: datetime.datetime | None) -> datetime.datetime | None:
    if moment is None or timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment)  # a time without an offset is Beijing time


def community_to_manage(user: User, community_id: int) -> Place:
    """The place a new person, association or team belongs to: 404 out of sight, 403 when the
    user may see it but not manage the network there."""
    place = access_place(user, community_id, Cap.NETWORK_VIEW)
    actions.require_manage(user, place.path)
    return place
