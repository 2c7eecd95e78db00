from typing import Any, ClassVar

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "linli.accounts"
    label = "accounts"
    verbose_name = _("Accounts")
    # What the audit page calls this app's actions (linli.core.audit).
    audit_labels: ClassVar[dict[str, Any]] = {
        "login": _("logged in"),
        "login.failed": _("failed login"),
        "login.locked": _("login refused: locked"),
        "logout": _("logged out"),
        "password.change": _("changed password"),
        "token.create": _("created an API token"),
        "token.revoke": _("revoked an API token"),
        "grant.create": _("granted a role"),
        "grant.revoke": _("revoked a role"),
    }
