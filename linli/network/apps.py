from typing import Any, ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "linli.network"
    label = "network"
    verbose_name = _("Network")
    # What the audit page calls this app's actions (linli.core.audit).
    audit_labels: ClassVar[dict[str, Any]] = {
        "network.person.create": _("added a person to the network"),
        "network.chief.recruit": _("recruited a chief"),
        "network.chief.decide": _("decided a chief's status"),
        "network.chief.assign": _("gave a chief a building or lane"),
        "network.chief.unassign": _("ended a chief's assignment"),
        "network.association.create": _("founded a neighbourhood association"),
        "network.association.join": _("added an association member"),
        "network.association.leave": _("recorded an association member leaving"),
        "network.association.role": _("changed an association member's role"),
        "network.team.leader": _("changed a team's leader"),
        "network.team.create": _("founded a volunteer team"),
        "network.team.join": _("added a team member"),
        "network.team.leave": _("recorded a team member leaving"),
        "network.visit": _("logged a home visit"),
        "network.patrol": _("logged a patrol"),
        "network.reception": _("logged a reception day"),
    }
