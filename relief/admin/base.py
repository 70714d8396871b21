"""Pieces every relief admin shares: scope, read-only models and inlines, filters.

Who may see full numbers is privacy.access.may_see_full (one rule for every page and file).

Scope: each admin's get_queryset starts from the user's union subtree (a selector), so lists,
change forms (an object outside is "not found"), date hierarchies, autocompletes (they ask
the target admin's queryset) and related-only filters all see the same rows. Filters whose
choices would list every union (Django's default related filter) are not used.
"""

from django.contrib import admin
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
        if self.value() and self.value().isdigit():
            return queryset.filter(**{f"{self.date_field}__year": int(self.value())})
        return queryset
