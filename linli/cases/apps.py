from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "linli.cases"
    label = "cases"
    verbose_name = _("Residents' requests")

    def ready(self) -> None:
        from linli.cases import notify  # noqa: F401  (registers the outbox handler)
