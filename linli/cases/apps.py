from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "linli.cases"
    label = "cases"
    verbose_name = _("Residents' requests")

    def ready(self) -> None:
        from linli.cases import notify  # noqa: F401  (registers the outbox handler)
        from linli.cases.open311 import AUDIT_LABELS
        from linli.core.audit import ACTION_LABELS

        ACTION_LABELS.update(AUDIT_LABELS)
