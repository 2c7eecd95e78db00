from typing import Any, ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "linli.places"
    label = "places"
    verbose_name = _("Places")
    # What the audit page calls this app's actions (linli.core.audit).
    audit_labels: ClassVar[dict[str, Any]] = {
        "place.create": _("created a place"),
        "place.update": _("changed a place"),
        "building.assign": _("moved a building to a grid or lane"),
        "grid.create": _("created a grid"),
        "grid.update": _("changed a grid"),
        "lane.create": _("created a street or lane"),
        "lane.update": _("changed a street or lane"),
    }
