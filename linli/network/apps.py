from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NetworkConfig(AppConfig):
    name = "linli.network"
    label = "network"
    verbose_name = _("Network")

    def ready(self) -> None:
        from linli.core.audit import ACTION_LABELS
        from linli.network.actions import AUDIT_LABELS

        ACTION_LABELS.update(AUDIT_LABELS)
