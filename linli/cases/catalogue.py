"""Every write to the categories and what they ask (``Category``, ``CategoryAttribute``,
``AttributeValue``), as the operators' admin makes it: checked, saved and audited together.
Categories themselves are switched off (``active``), never deleted: cases point at them."""

from __future__ import annotations

from django.db import transaction

from linli.accounts.models import User
from linli.core import audit

from .models import AttributeValue, Category, CategoryAttribute

Definition = Category | CategoryAttribute | AttributeValue


def _category_code(obj: Definition) -> str:
    if isinstance(obj, Category):
        return obj.code
    if isinstance(obj, CategoryAttribute):
        return obj.category.code
    return obj.attribute.category.code


def save(actor: User | None, obj: Definition) -> Definition:
    """Checks ``obj`` (its fields, its uniqueness, its ``clean``), saves it and records it."""
    with transaction.atomic():
        created = obj.pk is None
        obj.full_clean()
        obj.save()
        audit.record(
            actor,
            "category.change",
            obj,
            data={
                "category": _category_code(obj),
                "kind": obj._meta.model_name,
                "created": created,
            },
        )
    return obj


def remove(actor: User | None, obj: CategoryAttribute | AttributeValue) -> None:
    """Removes an attribute (with its choices) or one choice. Cases keep the answers they were
    given; the case page then shows an answer under its code."""
    with transaction.atomic():
        audit.record(
            actor,
            "category.remove",
            obj,
            data={"category": _category_code(obj), "kind": obj._meta.model_name},
        )
        obj.delete()
