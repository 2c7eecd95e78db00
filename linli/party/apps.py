from typing import Any, ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartyConfig(AppConfig):
    name = "linli.party"
    label = "party"
    verbose_name = _("Party building")
    # What the audit page calls this app's actions (linli.core.audit).
    audit_labels: ClassVar[dict[str, Any]] = {
        "party.org.create": _("added a party organisation"),
        "party.org.secretary": _("named a party secretary"),
        "party.member.create": _("added a party member"),
        "party.register": _("registered for the dual report"),
        "party.registration.approve": _("approved a dual-report registration"),
        "party.registration.reject": _("rejected a dual-report registration"),
        "party.post.publish": _("published a post or task"),
        "party.post.close": _("closed a post or task"),
        "party.claim": _("claimed a post or task"),
        "party.claim.withdraw": _("withdrew a claim"),
        "party.hours.log": _("logged service hours"),
        "party.hours.confirm": _("confirmed service hours"),
        "party.hours.reject": _("rejected service hours"),
        "party.evaluate": _("evaluated a party member"),
        "party.contact.add": _("added a unit's partner contact"),
        "party.record.export": _("downloaded a unit's service record"),
    }
