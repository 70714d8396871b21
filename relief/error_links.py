"""The error summary on top of a long form: one link per field in error (issue 13, item 13).

A count alone ("please correct the 3 errors marked below") leaves a caseworker on a phone
scrolling through four sections to find them. Each entry names the field and its message and
links to the input itself (the anchor works without scripts; static/js/error-summary.js also
focuses it).
"""

from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class ErrorLink:
    target: str  # the id of the element to go to; "" for a message about the whole form
    label: str
    message: str


def _target(bound) -> str:
    if isinstance(bound.field.widget, (forms.CheckboxSelectMultiple, forms.RadioSelect)):
        # Django gives a choice list's label no `for`; the first choice takes the focus.
        return f"{bound.auto_id}_0"
    return bound.id_for_label or bound.auto_id


def _form_links(form, label_prefix: str = "") -> list[ErrorLink]:
    links = [ErrorLink("", label_prefix.strip(" ·"), m) for m in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == forms.forms.NON_FIELD_ERRORS or name not in form.fields:
            continue
        bound = form[name]
        if bound.is_hidden:
            links.extend(ErrorLink("", label_prefix.strip(" ·"), m) for m in errors)
            continue
        label = f"{label_prefix}{bound.label}"
        links.append(ErrorLink(_target(bound), label, " ".join(str(m) for m in errors)))
    return links


def error_links(*parts, formset_targets: dict | None = None) -> list[ErrorLink]:
    """One entry per field in error of these forms and formsets, in page order.

    `formset_targets` maps a formset's prefix to the id of its section, where a message about
    the formset as a whole (too many rows, a duplicate) links to.
    """
    links: list[ErrorLink] = []
    for part in parts:
        if part is None or not part.is_bound:
            continue
        if isinstance(part, forms.BaseFormSet):
            target = (formset_targets or {}).get(part.prefix, "")
            links.extend(ErrorLink(target, "", str(m)) for m in part.non_form_errors())
            for number, form in enumerate(part.forms, start=1):
                if form.errors:
                    prefix = f"{_('Household member')} {number} · "
                    links.extend(_form_links(form, prefix))
        else:
            links.extend(_form_links(part))
    return links
