"""Inquiry forms and their fields: the rules for building them, per brand (no requests here).

Every change to a form or its fields bumps `InquiryForm.version`; a ticket keeps the labels and
answers it was submitted with, so editing or deleting a form never changes an old ticket.
Mutating functions validate first (raising `InvalidDefinition` with field -> error code) and
commit, like kb.structure.
"""

import math
import re
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from kb.models import Brand
from portal.desk.models import (
    CHOICE_TYPES,
    FIELD_TYPES,
    FORM_AUDIENCES,
    FormField,
    InquiryForm,
)

KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
# The fixed inputs every form asks for; a field key must not look like one of them.
RESERVED_KEYS = frozenset({"subject", "description", "name", "email"})
QUERY_PARAM_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
OPTION_VALUE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# A checkbox without options is one yes/no box; the other choice types need options.
OPTIONS_REQUIRED = tuple(t for t in CHOICE_TYPES if t != "checkbox")
LENGTH_TYPES = ("text", "textarea", "email")  # min/max length and pattern apply
VALUE_TYPES = ("number",)  # min/max value apply
# Answers a condition can look at: not hidden fields (filled from the link) or files.
CONDITION_TARGET_TYPES = tuple(t for t in FIELD_TYPES if t not in ("hidden", "file"))
MAX_NAME = 200
MAX_DESCRIPTION = 2000
MAX_LABEL = 200
MAX_HELP = 1000
MAX_PATTERN = 200
MAX_CONDITION_VALUE = 200
MAX_OPTIONS = 200
MAX_LENGTH_LIMIT = 100_000
MAX_FIELDS = 100
FIELD_ATTRIBUTES = (
    "key",
    "type",
    "required",
    "labels",
    "help",
    "options",
    "min_length",
    "max_length",
    "pattern",
    "min_value",
    "max_value",
    "condition_key",
    "condition_value",
    "query_param",
)
DIRECTIONS = ("up", "down")


class InvalidDefinition(ValueError):
    """A form or field definition broke a rule; `errors` maps field names to error codes."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(", ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


# -- reading ------------------------------------------------------------------------------


def forms_for_brand(session: Session, brand_id: int, listed_only: bool = False) -> list:
    """A brand's forms in their order, with their fields loaded (one query each)."""
    stmt = (
        select(InquiryForm)
        .where(InquiryForm.brand_id == brand_id)
        .order_by(InquiryForm.position, InquiryForm.id)
        .options(selectinload(InquiryForm.fields))
    )
    if listed_only:
        stmt = stmt.where(InquiryForm.listed.is_(True))
    return list(session.scalars(stmt))


def forms_overview(session: Session, brand_ids: Iterable[int]) -> list[tuple[InquiryForm, int]]:
    """(form, number of fields) for several brands' forms, by brand and order: two queries."""
    forms = list(
        session.scalars(
            select(InquiryForm)
            .where(InquiryForm.brand_id.in_(list(brand_ids)))
            .order_by(InquiryForm.brand_id, InquiryForm.position, InquiryForm.id)
        )
    )
    counts = dict(
        session.execute(
            select(FormField.form_id, func.count())
            .where(FormField.form_id.in_([f.id for f in forms]))
            .group_by(FormField.form_id)
        ).all()
    )
    return [(f, counts.get(f.id, 0)) for f in forms]


def text_in(texts: dict | None, locale: str, fallback: str) -> str:
    """A per-locale text (name, label) in this locale, else the fallback locale's, else any."""
    texts = texts or {}
    return texts.get(locale) or texts.get(fallback) or next(iter(texts.values()), "")


# -- forms --------------------------------------------------------------------------------


def _one_line(value) -> str:
    return " ".join(str(value or "").split())


def _texts(values: dict | None, locales: Iterable[str], one_line: bool = True) -> dict[str, str]:
    """Texts of the brand's enabled locales, trimmed; empty ones left out."""
    values = values or {}
    out = {}
    for locale in locales:
        text = _one_line(values.get(locale)) if one_line else str(values.get(locale) or "").strip()
        if text:
            out[locale] = text
    return out


def validate_form_definition(
    brand: Brand,
    names: dict,
    descriptions: dict,
    audience: str = "everyone",
    organization_ids: list | None = None,
) -> dict[str, str]:
    """Error codes by input name (name_<locale>, description_<locale>, audience)."""
    errors = {}
    names = _texts(names, brand.locales)
    descriptions = _texts(descriptions, brand.locales, one_line=False)
    for locale, name in names.items():
        if len(name) > MAX_NAME:
            errors[f"name_{locale}"] = "name_too_long"
    if brand.default_locale not in names:
        errors[f"name_{brand.default_locale}"] = "name_required"
    for locale, text in descriptions.items():
        if len(text) > MAX_DESCRIPTION:
            errors[f"description_{locale}"] = "description_too_long"
    if audience not in FORM_AUDIENCES:
        errors["audience"] = "audience_unknown"
    elif audience == "organizations" and not organization_ids:
        errors["organizations"] = "organizations_required"
    return errors


def _bump(form: InquiryForm) -> None:
    # Done in SQL, so two editors saving at once still give two versions.
    form.version = InquiryForm.version + 1


def create_form(
    session: Session,
    brand: Brand,
    names: dict,
    descriptions: dict,
    listed: bool = True,
    audience: str = "everyone",
    organization_ids: list | None = None,
) -> InquiryForm:
    """A new form at the end of the brand's list (version 1, no fields yet)."""
    organization_ids = sorted(set(organization_ids or [])) if audience == "organizations" else []
    errors = validate_form_definition(brand, names, descriptions, audience, organization_ids)
    if errors:
        raise InvalidDefinition(errors)
    last = session.scalar(
        select(func.max(InquiryForm.position)).where(InquiryForm.brand_id == brand.id)
    )
    form = InquiryForm(
        brand_id=brand.id,
        position=0 if last is None else last + 1,
        names=_texts(names, brand.locales),
        descriptions=_texts(descriptions, brand.locales, one_line=False),
        listed=bool(listed),
        audience=audience,
        organization_ids=organization_ids,
        version=1,
    )
    session.add(form)
    session.commit()
    return form


def update_form(
    session: Session,
    form: InquiryForm,
    names: dict,
    descriptions: dict,
    listed: bool | None = None,
    audience: str | None = None,
    organization_ids: list | None = None,
) -> InquiryForm:
    """Change a form's texts and settings (None: keep listed / audience / organizations)."""
    brand = session.get(Brand, form.brand_id)
    audience = form.audience if audience is None else audience
    if organization_ids is None:
        organization_ids = form.organization_ids or []
    organization_ids = sorted(set(organization_ids)) if audience == "organizations" else []
    errors = validate_form_definition(brand, names, descriptions, audience, organization_ids)
    if errors:
        raise InvalidDefinition(errors)
    form.names = _texts(names, brand.locales)
    form.descriptions = _texts(descriptions, brand.locales, one_line=False)
    if listed is not None:
        form.listed = bool(listed)
    form.audience = audience
    form.organization_ids = organization_ids
    _bump(form)
    session.commit()
    return form


def delete_form(session: Session, form: InquiryForm) -> None:
    """Delete a form and its fields; its tickets keep their copy (form_id becomes NULL)."""
    session.delete(form)
    session.commit()


def _renumber_and_swap(items: list, index: int, direction: str) -> bool:
    """Positions 0..n-1 in the current order, with item `index` moved one step."""
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {DIRECTIONS}")
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(items):
        return False
    items[index], items[other] = items[other], items[index]
    for position, item in enumerate(items):
        item.position = position
    return True


def move_form(session: Session, form: InquiryForm, direction: str) -> bool:
    """Move a form one place up or down in its brand's list; False at either end.

    The order of the list is the brand's, not part of any form: versions stay as they are."""
    forms = list(
        session.scalars(
            select(InquiryForm)
            .where(InquiryForm.brand_id == form.brand_id)
            .order_by(InquiryForm.position, InquiryForm.id)
        )
    )
    moved = _renumber_and_swap(forms, forms.index(form), direction)
    session.commit()
    return moved


# -- fields -------------------------------------------------------------------------------


def _number(values: dict, name: str, kind: type):
    value = values.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        if isinstance(value, bool):
            raise ValueError(name)
        return kind(value)
    except (TypeError, ValueError):
        raise InvalidDefinition({name: "number_invalid"}) from None


def clean_field_values(values: dict, locales: Iterable[str] | None = None) -> dict:
    """The field's attributes, trimmed and typed; attributes that do not apply to the type
    are emptied, so a stored definition never carries leftovers of an earlier type.

    `locales`: the brand's enabled locales (texts in others are dropped); None keeps all.
    Raises InvalidDefinition for a number that is not one, TypeError for unknown attributes."""
    unknown = set(values) - set(FIELD_ATTRIBUTES)
    if unknown:
        raise TypeError(f"unknown field attributes: {sorted(unknown)}")
    type_ = str(values.get("type") or "").strip()
    labels = values.get("labels") or {}
    help_ = values.get("help") or {}
    locales = list(locales) if locales is not None else None

    def texts(given: dict, one_line: bool = True) -> dict[str, str]:
        return _texts(given, locales if locales is not None else list(given), one_line)

    cleaned = {
        "key": str(values.get("key") or "").strip(),
        "type": type_,
        "required": bool(values.get("required")) and type_ != "hidden",
        "labels": texts(labels),
        "help": texts(help_, one_line=False),
        "options": [],
        "min_length": None,
        "max_length": None,
        "pattern": None,
        "min_value": None,
        "max_value": None,
        "condition_key": str(values.get("condition_key") or "").strip() or None,
        "condition_value": None,
        "query_param": None,
    }
    if cleaned["condition_key"]:
        cleaned["condition_value"] = _one_line(values.get("condition_value")) or None
    if type_ in CHOICE_TYPES:
        cleaned["options"] = [
            {"value": str(o.get("value") or "").strip(), "labels": texts(o.get("labels") or {})}
            for o in values.get("options") or []
        ]
    if type_ in LENGTH_TYPES:
        cleaned["min_length"] = _number(values, "min_length", int)
        cleaned["max_length"] = _number(values, "max_length", int)
        cleaned["pattern"] = str(values.get("pattern") or "") or None
    if type_ in VALUE_TYPES:
        cleaned["min_value"] = _number(values, "min_value", float)
        cleaned["max_value"] = _number(values, "max_value", float)
    if type_ == "hidden":
        cleaned["query_param"] = str(values.get("query_param") or "").strip() or None
    return cleaned


def _option_errors(options: list[dict]) -> str | None:
    if len(options) > MAX_OPTIONS:
        return "too_many_options"
    seen = set()
    for option in options:
        value = option.get("value") or ""
        if not OPTION_VALUE_PATTERN.fullmatch(value):
            return "option_value_invalid"
        if value in seen:
            return "option_duplicate"
        seen.add(value)
        if any(len(label) > MAX_LABEL for label in (option.get("labels") or {}).values()):
            return "option_label_too_long"
    return None


def validate_field_definition(
    values: dict, existing_keys: Iterable[str], default_locale: str | None = None
) -> dict[str, str]:
    """Error codes by attribute for one field's definition.

    `existing_keys`: the keys of the form's other fields. With `default_locale`, a label in
    that locale is required (except for hidden fields) and label errors are keyed
    label_<locale> / help_<locale>."""
    existing = set(existing_keys)
    try:
        v = clean_field_values(values)
    except InvalidDefinition as exc:
        return exc.errors
    errors: dict[str, str] = {}
    key = v["key"]
    if not key:
        errors["key"] = "key_required"
    elif not KEY_PATTERN.fullmatch(key):
        errors["key"] = "key_invalid"
    elif key in RESERVED_KEYS:
        errors["key"] = "key_reserved"
    elif key in existing:
        errors["key"] = "key_taken"
    if v["type"] not in FIELD_TYPES:
        errors["type"] = "type_unknown"
    for locale, label in v["labels"].items():
        if len(label) > MAX_LABEL:
            errors[f"label_{locale}"] = "label_too_long"
    for locale, text in v["help"].items():
        if len(text) > MAX_HELP:
            errors[f"help_{locale}"] = "help_too_long"
    if default_locale and v["type"] != "hidden" and default_locale not in v["labels"]:
        errors[f"label_{default_locale}"] = "label_required"
    if v["type"] in OPTIONS_REQUIRED and not v["options"]:
        errors["options"] = "options_required"
    elif v["options"] and (problem := _option_errors(v["options"])):
        errors["options"] = problem
    for name in ("min_length", "max_length"):
        if v[name] is not None and not 0 <= v[name] <= MAX_LENGTH_LIMIT:
            errors[name] = "length_out_of_range"
    if (
        "min_length" not in errors
        and "max_length" not in errors
        and None not in (v["min_length"], v["max_length"])
        and v["min_length"] > v["max_length"]
    ):
        errors["max_length"] = "length_range"
    for name in ("min_value", "max_value"):
        if v[name] is not None and not math.isfinite(v[name]):
            errors[name] = "value_invalid"
    if (
        "min_value" not in errors
        and "max_value" not in errors
        and None not in (v["min_value"], v["max_value"])
        and v["min_value"] > v["max_value"]
    ):
        errors["max_value"] = "value_range"
    if v["pattern"] is not None:
        if len(v["pattern"]) > MAX_PATTERN:
            errors["pattern"] = "pattern_too_long"
        else:
            try:
                re.compile(v["pattern"])
            except (re.error, OverflowError, RecursionError):
                errors["pattern"] = "pattern_invalid"
    if v["condition_key"]:
        if v["condition_key"] == key:
            errors["condition_key"] = "condition_self"
        elif v["condition_key"] not in existing:
            errors["condition_key"] = "condition_unknown"
        if not v["condition_value"]:
            errors["condition_value"] = "condition_value_required"
        elif len(v["condition_value"]) > MAX_CONDITION_VALUE:
            errors["condition_value"] = "condition_value_too_long"
    if v["type"] == "hidden":
        if not v["query_param"]:
            errors["query_param"] = "query_param_required"
        elif not QUERY_PARAM_PATTERN.fullmatch(v["query_param"]):
            errors["query_param"] = "query_param_invalid"
    return errors


def _checked(session: Session, form: InquiryForm, values: dict, field: FormField | None):
    """Cleaned values for `field` (None: a new one at the end), or InvalidDefinition.

    Beyond validate_field_definition: a condition must point at a field placed before this
    one (the public form settles conditions in order) that the requester answers (not hidden,
    not a file), and its value must be one of that field's options when it has options; a
    field others depend on cannot become hidden or a file."""
    brand = session.get(Brand, form.brand_id)
    others = [f for f in form.fields if f is not field]
    cleaned = clean_field_values(values, brand.locales)
    errors = validate_field_definition(cleaned, [f.key for f in others], brand.default_locale)
    if field is None and len(form.fields) >= MAX_FIELDS:
        errors["key"] = "too_many_fields"
    target_key = cleaned["condition_key"]
    if target_key and "condition_key" not in errors:
        target = next(f for f in others if f.key == target_key)
        if target.type not in CONDITION_TARGET_TYPES:
            errors["condition_key"] = "condition_target_type"
        elif field is not None and form.fields.index(target) > form.fields.index(field):
            errors["condition_key"] = "condition_after"
        elif (
            target.options
            and cleaned["condition_value"]
            and cleaned["condition_value"] not in [o.get("value") for o in target.options]
        ):
            errors["condition_value"] = "condition_value_unknown"
    if (
        field is not None
        and cleaned["type"] not in CONDITION_TARGET_TYPES
        and "type" not in errors
        and any(f.condition_key == field.key for f in others)
    ):
        errors["type"] = "type_has_dependents"
    if errors:
        raise InvalidDefinition(errors)
    return cleaned


def add_field(session: Session, form: InquiryForm, **values) -> FormField:
    """A new field at the end of the form."""
    cleaned = _checked(session, form, values, None)
    last = max((f.position for f in form.fields), default=-1)
    field = FormField(position=last + 1, **cleaned)
    form.fields.append(field)
    _bump(form)
    session.commit()
    return field


def update_field(session: Session, field: FormField, **values) -> FormField:
    """Change a field; when its key changes, conditions that named the old key follow it."""
    form = field.form
    cleaned = _checked(session, form, values, field)
    old_key = field.key
    if cleaned["key"] != old_key:
        for other in form.fields:
            if other is not field and other.condition_key == old_key:
                other.condition_key = cleaned["key"]
    for name, value in cleaned.items():
        setattr(field, name, value)
    _bump(form)
    session.commit()
    return field


def delete_field(session: Session, field: FormField) -> list[str]:
    """Delete a field. Fields shown only on a condition about it lose that condition (they
    show always); their keys are returned so the editor can be told."""
    form = field.form
    freed = []
    for other in form.fields:
        if other is not field and other.condition_key == field.key:
            other.condition_key = other.condition_value = None
            freed.append(other.key)
    form.fields.remove(field)
    _bump(form)
    session.commit()
    return freed


def move_field(session: Session, field: FormField, direction: str) -> bool:
    """Move a field one place up or down. False at either end, or when the move would put a
    field before the one its condition depends on."""
    form = field.form
    fields = list(form.fields)
    index = fields.index(field)
    other = index - 1 if direction == "up" else index + 1
    if direction in DIRECTIONS and 0 <= other < len(fields):
        upper, lower = (fields[other], field) if direction == "up" else (field, fields[other])
        if lower.condition_key == upper.key:
            return False
    if not _renumber_and_swap(fields, index, direction):
        return False
    _bump(form)
    session.commit()
    # The relationship keeps its load order until the next load.
    session.expire(form, ["fields"])
    return True
