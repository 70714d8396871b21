"""A changelist's rows built a row at a time from formatters made once per page (issue 16).

Django's result_list renders each cell through items_for_result: for every row and column it
looks the column up again (lookup_field, label and attribute resolution), formats the value
through display_for_field (translation and locale look-ups each time) and assembles the cell
with format_html. On the case list (50 rows of ~11 cells) that was ~43% of the page's time.

Here each column is resolved once per page into a function from an object to the cell's
HTML, with what does not change between rows (the field, its cell class, the locale's number
separators, the change URL around the key, the preserved filters, the translated checkbox
label) worked out beforehand, and values that repeat (dates, amounts, states, unions) kept
after their first formatting. The cells are the same HTML as Django's, cell for cell (tests/
relief/test_admin_result_table.py compares the two), so the admin's CSS, actions.js (the
select-all box, shift-click ranges, the counter) and the header's sorting links behave as
before. Headers and hidden fields still come from Django (result_headers), once per page.

A ModelAdmin opts in with FastResultListMixin; its own columns (methods) give their cell
contents through fast_list_cells(). A list this cannot build exactly as Django would (an
editable list, a column of a kind not handled here, a method without a formatter) is left to
Django's result_list, whole.
"""

import decimal
from collections.abc import Callable
from urllib.parse import quote as url_quote

from django.contrib.admin import helpers
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import quote
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import formats, numberformat
from django.utils.html import conditional_escape, escape
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# The key in a change URL reversed once per page and replaced per row: a path segment that
# quote() never produces (it escapes "_" as "_5F").
KEY_MARK = "00fastresultkey00"

Cell = Callable[[object], str]
# What reverse() leaves unencoded in a path (django.urls.resolvers._reverse_with_prefix).
PATH_SAFE = RFC3986_SUBDELIMS + "/~:@"


class FastResultListMixin:
    """Renders the changelist's rows with prebuilt formatters (relief.admin.result_table)."""

    change_list_template = "admin/fast_result_change_list.html"

    def fast_list_cells(self, cl) -> dict[str, Cell]:
        """The HTML (escaped, without the cell's tag) of each method column, per object."""
        return {}


class NotFast(Exception):
    """A column this module does not render exactly as Django would."""


def result_list(cl) -> dict:
    """The context of change_list_results.html, as Django's result_list gives it."""
    try:
        rows = fast_rows(cl)
    except NotFast:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        # One item per row: the template joins a row's items, here the whole row's cells.
        "results": [admin_list.ResultList(None, [row]) for row in rows],
    }


def fast_rows(cl) -> list[str]:
    """Each result's cells as one HTML string; NotFast when a column is not handled here."""
    if cl.formset is not None or cl.list_editable:
        raise NotFast("an editable list")
    own = cl.model_admin.fast_list_cells(cl)
    cells = [_column(cl, index, name, own) for index, name in enumerate(cl.list_display)]
    # Every formatter escapes what it takes from the row; the row is then safe as a whole.
    return [
        mark_safe("".join([cell(result) for cell in cells]))  # noqa: S308 (escaped above)
        for result in cl.result_list
    ]


def _column(cl, index, name, own) -> Cell:
    if not isinstance(name, str):
        raise NotFast(f"a callable column {name!r}")
    if name == "action_checkbox":
        return _checkbox_cell(cl)
    classes = f"field-{name}"
    if name in own:
        inner = own[name]
        field = None
    else:
        field = _model_field(cl, name)
        if field is None:
            raise NotFast(f"no formatter for the column {name!r}")
        inner = _field_formatter(cl, field)
        if isinstance(field, (models.DateField, models.TimeField, models.ForeignKey)):
            classes += " nowrap"
    if _is_link_column(cl, index, name):
        return _link_cell(cl, index, classes, inner)
    opening = f'<td class="{classes}">'

    def cell(result, inner=inner, opening=opening):
        return f"{opening}{inner(result)}</td>"

    return cell


def _model_field(cl, name):
    """The model field Django's lookup_field would find for the column, if it is one; a
    column named by a field's attname ("union_id") or a path is not (Django shows the raw
    value or follows the path: not done here)."""
    try:
        field = cl.lookup_opts.get_field(name)
    except FieldDoesNotExist:
        return None
    if field.name != name or field.auto_created or not field.concrete:
        return None
    return field


def _is_link_column(cl, index, name) -> bool:
    links = cl.list_display_links
    if links is None:
        return False
    if not links:
        return index == 0  # Django links the first column while it has linked none
    return name in links


def _link_cell(cl, index, classes, inner) -> Cell:
    """The change link around the cell, with the list's filters kept for the way back."""
    tag = "th" if _is_first_link(cl, index) else "td"
    try:
        url = reverse(
            f"admin:{cl.opts.app_label}_{cl.opts.model_name}_change",
            args=(KEY_MARK,),
            current_app=cl.model_admin.admin_site.name,
        )
    except NoReverseMatch:
        opening = f'<{tag} class="{classes}">'
        closing = f"</{tag}>"
        return lambda result: f"{opening}{inner(result)}{closing}"
    url = add_preserved_filters({"preserved_filters": cl.preserved_filters, "opts": cl.opts}, url)
    before, after = (escape(part) for part in url.split(KEY_MARK, 1))
    key = cl.pk_attname
    popup_key = str(cl.to_field) if cl.to_field else cl.lookup_opts.pk.attname
    opening = f'<{tag} class="{classes}"><a href="{before}'
    closing = f"</a></{tag}>"

    def cell(result):
        # The key as url_for_result puts it in the address (the admin's quote(), then
        # reverse()'s percent-encoding), escaped as format_html would.
        pk = getattr(result, key)
        text = str(pk) if isinstance(pk, int) else url_quote(str(quote(pk)), safe=PATH_SAFE)
        link = f'{opening}{escape(text)}{after}"'
        if cl.is_popup:
            link += f' data-popup-opener="{escape(result.serializable_value(popup_key))}"'
        return f"{link}>{inner(result)}{closing}"

    return cell


def _is_first_link(cl, index) -> bool:
    """Django's first linked cell is a <th>, the others <td>."""
    for i, name in enumerate(cl.list_display):
        if _is_link_column(cl, i, name):
            return i == index
    return False


def _checkbox_cell(cl) -> Cell:
    """ModelAdmin.action_checkbox's box (CheckboxInput's HTML), without a widget render."""
    before, _sep, after = _("Select this object for an action - {}").partition("{}")
    name = helpers.ACTION_CHECKBOX_NAME
    opening = f'<td class="action-checkbox"><input type="checkbox" name="{name}" value="'
    middle = f'" class="action-select" aria-label="{before}'
    closing = f'{after}"></td>'

    def cell(result):
        return f"{opening}{escape(str(result.pk))}{middle}{escape(str(result))}{closing}"

    return cell


def _field_formatter(cl, field) -> Cell:
    """display_for_field's text for the field's value, escaped, with the page's locale."""
    empty = conditional_escape(cl.model_admin.get_empty_value_display())
    attname = field.attname
    if isinstance(field, models.ForeignKey):
        # The related object's text (items_for_result's ManyToOneRel case), once per object.
        name = field.name
        seen: dict = {}

        def related(result):
            key = getattr(result, attname)
            if key is None:
                return empty
            if key not in seen:
                seen[key] = conditional_escape(getattr(result, name))
            return seen[key]

        return related
    if field.flatchoices:
        labels = {value: conditional_escape(label) for value, label in field.flatchoices}

        def choice(result):
            return labels.get(getattr(result, attname), empty)

        return choice
    if isinstance(field, models.BooleanField):
        icons = {value: admin_list._boolean_icon(value) for value in (True, False, None)}
        return lambda result: icons[getattr(result, attname)]
    if isinstance(field, (models.FileField, models.URLField, models.JSONField)):
        raise NotFast(f"a {type(field).__name__} column")
    if isinstance(field, models.DateTimeField):
        raise NotFast("a date-time column (formatted in the viewer's time zone)")
    empty_values = field.empty_values
    if isinstance(field, (models.DateField, models.TimeField)):
        convert = formats.localize
    elif isinstance(field, models.DecimalField):
        convert = _number_formatter(field.decimal_places)
    elif isinstance(field, (models.IntegerField, models.FloatField)):
        convert = _number_formatter(None)
    elif isinstance(field, (models.CharField, models.TextField)):
        return _text_formatter(attname, empty)
    else:
        raise NotFast(f"a {type(field).__name__} column")
    seen: dict = {}

    def formatted(result):
        value = getattr(result, attname)
        if value in empty_values:
            return empty
        try:
            return seen[value]
        except KeyError:
            text = seen[value] = escape(convert(value))
            return text

    return formatted


def _text_formatter(attname, empty) -> Cell:
    def text(result):
        value = getattr(result, attname)
        if value is None or (isinstance(value, str) and not value.strip()):
            return empty
        return escape(value)

    return text


def _number_formatter(decimal_pos):
    """formats.number_format with the separators looked up once, not per value."""
    lang = get_language()
    decimal_sep = formats.get_format("DECIMAL_SEPARATOR", lang)
    grouping = formats.get_format("NUMBER_GROUPING", lang)
    thousand_sep = formats.get_format("THOUSAND_SEPARATOR", lang)

    def number(value):
        if not isinstance(value, (int, float, decimal.Decimal)):
            raise TypeError(value)
        return numberformat.format(
            value, decimal_sep, decimal_pos, grouping, thousand_sep, use_l10n=True
        )

    return number
