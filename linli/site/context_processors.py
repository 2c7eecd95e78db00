from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from linli.accounts.roles import Cap
from linli.accounts.scope import scope_for
from linli.cases.queries import sees_cases
from linli.party.queries import sees_party


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu, by what the user's grants let them do: (url, label, key, count), the count a
    badge (unread notifications on Cases, say) or 0. Menus are a convenience: every page checks
    scope on its own."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    items = [(reverse("site:home"), _("Workbench"), "home", 0)]
    if not scope_for(user, Cap.PLACES_VIEW).is_empty:
        items.append((reverse("places:index"), _("Places"), "places", 0))
    if not scope_for(user, Cap.PEOPLE_VIEW).is_empty:
        items.append((reverse("people:search"), _("Residents"), "people", 0))
    if sees_cases(user):
        items.append((reverse("cases:inbox"), _("Cases"), "cases", 0))
    if sees_party(user):
        items.append((reverse("party:home"), _("Party building"), "party", 0))
    if not scope_for(user, Cap.NETWORK_VIEW).is_empty:
        items.append((reverse("network:home"), _("Network"), "network", 0))
    if not scope_for(user, Cap.AUDIT_VIEW).is_empty:
        items.append((reverse("site:audit"), _("Audit log"), "audit", 0))
    items.append((reverse("accounts:profile"), _("My account"), "account", 0))
    return {"nav": items}
