from typing import Any, ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    name = "linli.site"
    label = "site"
    verbose_name = _("Site")
    # The street's and district's headline panel (linli.core.workbench).
    workbench = "linli.site.workbench.panels"
    # What the audit page calls this app's actions (linli.core.audit).
    audit_labels: ClassVar[dict[str, Any]] = {
        "demo.load": _("loaded the demo data"),
    }
