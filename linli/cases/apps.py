from typing import Any, ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "linli.cases"
    label = "cases"
    verbose_name = _("Residents' requests")
    # What the audit page calls this app's actions (linli.core.audit).
    audit_labels: ClassVar[dict[str, Any]] = {
        "case.create": _("took in a case"),
        "case.accept": _("accepted a case"),
        "case.reject": _("rejected a case"),
        "case.assign": _("assigned a case"),
        "case.start": _("started on a case"),
        "case.resolve": _("resolved a case"),
        "case.rate": _("recorded a rating"),
        "case.close": _("closed a case"),
        "case.reopen": _("reopened a case"),
        "case.merge": _("merged a case"),
        "case.escalate": _("escalated a case to the street"),
        "case.reveal": _("revealed a reporter's phone number"),
        "case.code_missed": _("tried a tracking code that matches no case"),
        "open311.issue": _("issued an Open311 key"),
        "open311.revoke": _("revoked an Open311 key"),
        "open311.file": _("filed a case through Open311"),
        "category.change": _("changed a case category or what it asks"),
        "category.remove": _("removed a category attribute or choice"),
    }

    def ready(self) -> None:
        # Registers the outbox handler, once the apps are loaded.
        from linli.cases import notify  # noqa: F401, PLC0415
