"""What a category asks beside the description (Open311 service attributes): 楼层 as a number,
是否影响出行 as a choice. An operator defines them in the admin (``CategoryAttribute`` with its
``AttributeValue`` choices); Open311 publishes them in the service definition; ``clean`` checks
the answers of a filing, the one rule for every channel that asks them; the case keeps them
(``Case.attributes``) and its page shows them to the worker (``answers``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import LIST_DATATYPES, AttributeValue, Case, Category, CategoryAttribute, Datatype
from .moments import NotAMoment, parse_moment

# A number as a client types it: an integer of at most 18 digits (always inside 64 bits) and at
# most 6 decimals. Digits of other scripts are refused, as is an exponent.
NUMBER = re.compile(r"[+-]?[0-9]{1,18}(\.[0-9]{1,6})?")
STRING_MAX = 200
TEXT_MAX = 2000


def definitions(category: Category) -> list[CategoryAttribute]:
    """The category's attributes in their order, each with its choices (two queries)."""
    return list(
        CategoryAttribute.objects.filter(category=category)
        .order_by("order", "code")
        .prefetch_related(Prefetch("values", AttributeValue.objects.order_by("order", "key")))
    )


def _given(values: Sequence[str]) -> list[str]:
    return [v.replace("\x00", "").strip() for v in values if v.replace("\x00", "").strip()]


def _one(attribute: CategoryAttribute, values: list[str]) -> str:
    if len(values) > 1:
        raise ValidationError(_("Give one value only."))
    value = values[0]
    kind = attribute.datatype
    if kind == Datatype.NUMBER:
        if not NUMBER.fullmatch(value):
            raise ValidationError(
                _("Give a number, such as 12 or 3.5 (at most 18 digits, 6 after the point).")
            )
        return value.lstrip("+")
    if kind == Datatype.DATETIME:
        try:
            moment = parse_moment(value)
        except NotAMoment as exc:
            raise ValidationError(
                _("Give a date and time (ISO 8601, e.g. 2026-01-31T08:00:00+08:00).")
            ) from exc
        except ValueError as exc:
            raise ValidationError(_("Give a date between the years 1 and 9999.")) from exc
        return timezone.localtime(moment).isoformat()
    if kind == Datatype.SINGLE:
        return _choices(attribute, values)[0]
    limit = TEXT_MAX if kind == Datatype.TEXT else STRING_MAX
    text = value if kind == Datatype.TEXT else " ".join(value.split())
    if len(text) > limit:
        raise ValidationError(_("At most %(n)s characters.") % {"n": limit})
    return text


def _choices(attribute: CategoryAttribute, values: list[str]) -> list[str]:
    keys = [v.key for v in attribute.values.all()]
    unknown = [v for v in values if v not in keys]
    if unknown:
        raise ValidationError(
            _("“%(value)s” is not one of the choices: %(keys)s.")
            % {"value": unknown[0][:40], "keys": ", ".join(keys)}
        )
    return sorted(set(values), key=keys.index)


def clean(category: Category, given: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The answers to keep on the case, by attribute code: a string, or for a multivaluelist the
    list of chosen keys. Raises ``ValidationError`` keyed ``attribute[CODE]`` for a required
    attribute left out, a value of the wrong datatype, or a code the category does not ask."""
    errors: dict[str, list[str]] = {}
    answers: dict[str, Any] = {}
    defined = {a.code: a for a in definitions(category)}
    for code in given:
        if code not in defined:
            errors[f"attribute[{code[:40]}]"] = [
                _("Service %(service)s asks no attribute of this code.")
                % {"service": category.code}
            ]
    for code, attribute in defined.items():
        if not attribute.variable:
            continue  # a remark shown to whoever files: nothing to answer
        values = _given(given.get(code, []))
        key = f"attribute[{code}]"
        if not values:
            if attribute.required:
                errors[key] = [_("Required: %(question)s") % {"question": attribute.description}]
            continue
        try:
            if attribute.datatype == Datatype.MULTI:
                answers[code] = _choices(attribute, values)
            else:
                answers[code] = _one(attribute, values)
        except ValidationError as exc:
            errors[key] = exc.messages
    if errors:
        raise ValidationError(errors)
    return answers


def _shown(attribute: CategoryAttribute, answer: Any) -> str:
    if attribute.datatype in LIST_DATATYPES:
        names = {v.key: v.name for v in attribute.values.all()}
        keys = answer if isinstance(answer, list) else [answer]
        return "、".join(names.get(str(k), str(k)) for k in keys)
    if attribute.datatype == Datatype.DATETIME:
        try:
            moment = datetime.datetime.fromisoformat(str(answer))
        except ValueError:
            return str(answer)
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(answer)


def answers(case: Case) -> list[tuple[str, str]]:
    """(question, answer) for each attribute answered on the case, in the category's order; an
    answer whose attribute was since removed is shown under its code."""
    kept = case.attributes if isinstance(case.attributes, dict) else {}
    if not kept:
        return []
    rows: list[tuple[str, str]] = []
    defined = definitions(case.category)
    for attribute in defined:
        if attribute.code in kept:
            rows.append((attribute.description, _shown(attribute, kept[attribute.code])))
    known = {a.code for a in defined}
    for code, answer in kept.items():
        if code not in known:
            shown = "、".join(map(str, answer)) if isinstance(answer, list) else str(answer)
            rows.append((code, shown))
    return rows
