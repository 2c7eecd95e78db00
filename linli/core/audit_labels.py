"""What each audited action is called on the audit page. Kept out of ``linli.core.audit`` (which
re-exports it) so that the audit record's model can label its action without importing the module
that writes records, which imports the model."""

from __future__ import annotations

import functools
from typing import Any

from django.utils.translation import gettext_lazy as _

from linli.core.registry import contributions

# What each action is called on the audit page: core's own here; every app names its own actions in
# its AppConfig's ``audit_labels`` (linli.core.registry), collected at the first use.
AUDIT_LABELS: dict[str, Any] = {
    "keys.rotate": _("rotated the encryption key"),
}


@functools.cache
def action_labels() -> dict[str, Any]:
    labels = dict(AUDIT_LABELS)
    for more in contributions("audit_labels"):
        labels.update(more)
    return labels


def action_label(action: str) -> Any:
    return action_labels().get(action, action)
