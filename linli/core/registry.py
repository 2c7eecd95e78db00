"""What the apps give to pages and lists of a lower layer, without that layer importing them.

An app names what it adds in its ``AppConfig`` — ``audit_labels`` (what the audit page calls its
actions), ``place_context`` (a dotted path to ``fn(request, place, context)`` adding its part of the
place page) — and the lower layer asks ``contributions(name)``. One way for every app, and the
layers stay as ``make lint`` checks them (docs/architecture.md).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string


def contributions(attribute: str) -> list[Any]:
    """Each installed app's ``attribute``, in the order of INSTALLED_APPS; a dotted path is
    imported."""
    found = []
    for config in apps.get_app_configs():
        value = getattr(config, attribute, None)
        if value is not None:
            found.append(import_string(value) if isinstance(value, str) else value)
    return found
