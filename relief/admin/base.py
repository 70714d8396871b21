"""Pieces every relief admin shares: scope, read-only models and inlines, filters.

Who may see full numbers is privacy.access.may_see_full (one rule for every page and file).

Scope: each admin's get_queryset starts from the user's union subtree (a selector), so lists,
change forms (an object outside is "not found"), date hierarchies, autocompletes (they ask
the target admin's queryset) and related-only filters all see the same rows. Filters whose
choices would list every union (Django's default related filter) are not used.
"""

from django.contrib import admin
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from unions.admin_scope import NotFoundOutsideScope
from unions.models import Role


def has_role(user, *roles) -> bool:
    return bool(user.is_active and user.role and Role(user.role) in roles)


def is_reviewer(user) -> bool:
    """Town reviewers and district officers: the people who work in the admin."""
    return has_role(user, Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER)


class ReadOnlyAdmin(NotFoundOutsideScope, admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(admin.TabularInline):
    """Shown whenever the parent is: the parent admin already checked scope and permission."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        return True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


class ScopedRelatedFilter(admin.RelatedOnlyFieldListFilter):
    """Choices only from the rows the user's queryset holds (never every union or category)."""

    title_override = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.title_override:
            self.title = self.title_override


class TownFilter(ScopedRelatedFilter):
    title_override = _("town federation")

    @property
    def include_empty_choice(self):
        return False  # every case's union has a town


class YearFilter(admin.SimpleListFilter):
    """Calendar years of the application date, from the scoped rows only."""

    title = _("year")
    parameter_name = "year"
    date_field = "application_date"

    def lookups(self, request, model_admin):
        years = (
            model_admin.get_queryset(request)
            .dates(self.date_field, "year", order="DESC")
            .distinct()
        )
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdecimal():
            return queryset.filter(**{f"{self.date_field}__year": int(self.value())})
        return queryset


class YearChoicesFilter(YearFilter):
    """Years from the first case on file to this year: two index lookups, where the distinct
    years of the scoped rows read every row in scope (issue 16)."""

    def lookups(self, request, model_admin):
        from relief.views.cases import case_years

        return [(str(year), str(year)) for year in case_years()]


class CategoryFilter(admin.SimpleListFilter):
    """The hardship categories (a short fixed list), not the distinct categories of every
    case in scope."""

    title = _("hardship categories")
    parameter_name = "categories__id__exact"  # the name Django's related filter used

    def lookups(self, request, model_admin):
        from relief.models import HardshipCategory

        return [(str(c.pk), c.name) for c in HardshipCategory.objects.order_by("order", "pk")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdecimal():
            return queryset.filter(categories=int(self.value()))
        return queryset


class ScopedUnionFilter(admin.SimpleListFilter):
    """Unions of one level from the user's scope (the union table, never a scan of the cases
    for the unions they use); grassroots unions only of the town chosen, if one is."""

    level = "grassroots"
    field = "union"
    # The parameter names Django's related filters used, so links made before still work.
    town_parameter = "union__parent__id__exact"

    def lookups(self, request, model_admin):
        from unions.selectors import unions_in_scope

        unions = unions_in_scope(request.user).filter(level=self.level)
        town = request.GET.get(self.town_parameter, "")
        if self.level == "grassroots":
            if town.isdecimal():
                unions = unions.filter(parent_id=int(town))
            elif _across_towns(request.user):
                # Across towns (a district's 2,000 unions: 100 ms of rendering a list nobody
                # scrolls) the grassroots unions are offered once a town is chosen.
                return []
        return [(str(pk), name) for pk, name in unions.order_by("path").values_list("pk", "name")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdecimal():
            return queryset.filter(**{self.field: int(self.value())})
        return queryset


def _across_towns(user) -> bool:
    """The user's scope spans several towns (a district, a superuser): no query, the scope's
    root is the user's own union, already loaded by the list's scoping."""
    from unions.models import Level
    from unions.selectors import user_scope_root

    if user.is_superuser:
        return True
    root = user_scope_root(user)
    return root is not None and root.level not in (Level.TOWN, Level.GRASSROOTS)


class GrassrootsUnionFilter(ScopedUnionFilter):
    """A town's hundred grassroots unions as one drop-down (relief/templates/admin/relief/
    select_filter.html), not a hundred links: shorter for the reviewer and on a phone, and no
    address built per union (4 ms of the list page)."""

    template = "admin/relief/select_filter.html"
    parameter_name = "union__id__exact"

    def choices(self, changelist):
        value = self.value()
        # The list's other filters, search and sort ride along as hidden fields; a new
        # choice starts on the first page (Django's changelist has dropped `p` already).
        self.kept = [
            (name, item)
            for name, items in sorted(changelist.filter_params.items())
            if name != self.parameter_name
            for item in items
        ]
        # Keys are digits (lookups); the names are escaped. One f-string per option, not
        # format_html's escaping of every argument (a town's hundred options).
        self.options = mark_safe(  # noqa: S308 (escaped here)
            "".join(
                f'<option value="{pk}"{" selected" if pk == value else ""}>{escape(name)}</option>'
                for pk, name in self.lookup_choices
            )
        )
        yield {"selected": not value, "value": "", "display": _("All")}
        for pk, name in self.lookup_choices:
            yield {"selected": pk == value, "value": pk, "display": name}


class CaseTownFilter(ScopedUnionFilter):
    title = _("town federation")
    parameter_name = "union__parent__id__exact"
    level = "town"
    field = "union__parent"


class CaseUnionFilter(GrassrootsUnionFilter):
    title = _("grassroots union")


def is_changelist(request, model_admin) -> bool:
    """The request is this admin's list page (not its case page, export or autocomplete)."""
    match = getattr(request, "resolver_match", None)
    opts = model_admin.model._meta
    return bool(match and match.url_name == f"{opts.app_label}_{opts.model_name}_changelist")


class FixedYearFilter(admin.SimpleListFilter):
    """A year field's values as a fixed list (first case on file to this year), where
    Django's field filter reads the distinct values of every row in scope."""

    title = _("year")
    parameter_name = "fund_year"
    field = "fund_year"

    def lookups(self, request, model_admin):
        from relief.views.cases import case_years

        return [(str(year), str(year)) for year in case_years()]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdecimal():
            return queryset.filter(**{self.field: int(self.value())})
        return queryset


class PayoutTownFilter(ScopedUnionFilter):
    title = _("town federation")
    parameter_name = "town__id__exact"
    level = "town"
    field = "town"


class WorkerUnionFilter(GrassrootsUnionFilter):
    title = _("grassroots union")


class AuditActionFilter(admin.SimpleListFilter):
    """The audit trail's actions as a fixed list (relief.workflow's labels), where Django's
    field filter reads the distinct actions of the whole trail."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        from relief.workflow import TRANSITION_LABELS

        return [(name, label) for name, label in TRANSITION_LABELS.items()]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(action=self.value())
        return queryset


class SimpleFilterLookups:
    """The filters above keep the parameter names of Django's related filters they replace
    (`union__parent__id__exact`), which Django's lookup check would refuse as a relation
    lookup that no list filter names: a simple filter's own parameter is allowed."""

    def lookup_allowed(self, lookup, value, request=None):
        filters = self.get_list_filter(request) if request is not None else self.list_filter
        names = {
            f.parameter_name
            for f in filters
            if isinstance(f, type) and issubclass(f, admin.SimpleListFilter)
        }
        return lookup in names or super().lookup_allowed(lookup, value, request)
