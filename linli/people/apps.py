from typing import Any, ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PeopleConfig(AppConfig):
    name = "linli.people"
    label = "people"
    verbose_name = _("Roster")
    # Its part of the place page (linli.core.registry).
    place_context = "linli.people.views.place_context"
    # What the audit page calls this app's actions (linli.core.audit).
    audit_labels: ClassVar[dict[str, Any]] = {
        "resident.create": _("added a resident"),
        "resident.update": _("changed a resident"),
        "resident.view": _("viewed a resident"),
        "resident.reveal": _("revealed a personal number"),
        "resident.move_out": _("recorded a move out"),
        "resident.death": _("recorded a death"),
        "resident.tags": _("changed care tags"),
        "membership.create": _("added to a household"),
        "membership.end": _("ended a household tie"),
        "roster.import": _("imported a roster"),
        "roster.export": _("exported a roster"),
        "caretag.save": _("changed the care tag list"),
    }
