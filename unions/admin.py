from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from relief.admin_search import TokenSearchMixin
from unions.admin_scope import NotFoundOutsideScope
from unions.admin_words import (
    NoLinkRowsOnDelete,
    PasswordChangeForm,
    PermissionLabels,
    SafeAutocomplete,
)
from unions.models import Union, User
from unions.selectors import unions_in_scope
from unions.services import union_create, union_update, user_set_role


# Sign-in throttling (django-axes): its admins, with the project's POSTed search (usernames and
# addresses stay out of the URLs, like every other search) and 404 for a missing row.
# Successful sign-ins are not logged by axes (settings.AXES_DISABLE_ACCESS_LOG): no empty page.
class ThrottleStatus:
    """The attempts list says whether the user or the address is locked, counted as
    config.throttling counts (axes's own column judges each row alone)."""

    def get_queryset(self, request):
        since = timezone.now() - settings.AXES_COOLOFF_TIME
        recent = AccessAttempt.objects.filter(attempt_time__gte=since)

        def total(field):
            return Subquery(
                recent.filter(**{field: OuterRef(field)})
                .values(field)
                .annotate(total=Sum("failures_since_start"))
                .values("total")[:1]
            )

        return (
            super()
            .get_queryset(request)
            .annotate(user_failures=total("username"), address_failures=total("ip_address"))
        )

    @admin.display(description=_("status"))
    def status(self, obj):
        if (obj.user_failures or 0) >= settings.AXES_FAILURE_LIMIT:
            return _("User locked")
        if (obj.address_failures or 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT:
            return _("Address locked")
        return _("%(count)d attempts left") % {
            "count": settings.AXES_FAILURE_LIMIT - (obj.user_failures or 0)
        }


for _model, _axes_admin, _mixins in (
    (AccessAttempt, AccessAttemptAdmin, (ThrottleStatus,)),
    (AccessFailureLog, AccessFailureLogAdmin, ()),
    (AccessLog, None, ()),
):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    if _axes_admin is not None:
        admin.site.register(
            _model,
            type(
                _axes_admin.__name__,
                (*_mixins, NotFoundOutsideScope, TokenSearchMixin, _axes_admin),
                {},
            ),
        )


# Background jobs (django-tasks-db): the same read-only admin, its columns named in Chinese.
if admin.site.is_registered(DBTaskResult):
    admin.site.unregister(DBTaskResult)


@admin.register(DBTaskResult)
class TaskResultAdmin(NotFoundOutsideScope, TokenSearchMixin, DBTaskResultAdmin):
    list_display = ["task_label", "status", "enqueued_at", "started_at", "finished_at"]
    list_filter = ["status"]

    def get_readonly_fields(self, request, obj=None):
        # The id heads the page (its title); its label would read "Id".
        return [f for f in super().get_readonly_fields(request, obj) if f != "id"]

    @admin.display(description=_("job"))
    def task_label(self, obj):
        return obj.task_name

    @admin.display(description=_("traceback"))
    def formatted_traceback(self, obj):
        return super().formatted_traceback(obj)

    @admin.display(description=_("run after"))
    def display_run_after(self, obj):
        return super().display_run_after(obj)


@admin.register(Union)
class UnionAdmin(SafeAutocomplete, NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    list_display = ["name", "code", "level", "kind", "parent", "is_active"]
    list_filter = ["level", "kind", "is_active"]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent"]
    ordering = ["path"]

    def get_queryset(self, request):
        return unions_in_scope(request.user).select_related("parent")

    def save_model(self, request, obj, form, change):
        # The tree path is derived data kept by the services; never save the form directly.
        fields = ["code", "name", "level", "kind", "parent", "phone"]
        data = {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}
        if change:
            data["is_active"] = form.cleaned_data["is_active"]
            saved = union_update(union=obj, **data)
        else:
            saved = union_create(**data)
        obj.pk, obj.path = saved.pk, saved.path

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class RoleUnionCheck:
    """ModelForm runs only field validation of the model; the role/union rule needs both."""

    def _post_clean(self):
        super()._post_clean()
        if "role" in self.cleaned_data and "union" in self.cleaned_data:
            try:
                self.instance.clean()
            except forms.ValidationError as exc:
                self._update_errors(exc)


class UserAdminForm(RoleUnionCheck, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class UserAdminAddForm(RoleUnionCheck, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "full_name", "role", "union")


@admin.register(User)
class UserAdmin(
    SafeAutocomplete,
    PermissionLabels,
    NoLinkRowsOnDelete,
    NotFoundOutsideScope,
    TokenSearchMixin,
    BaseUserAdmin,
):
    form = UserAdminForm
    add_form = UserAdminAddForm
    change_password_form = PasswordChangeForm
    list_display = ["username", "full_name", "role", "union", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff", "union__level"]
    search_fields = ["username", "full_name", "phone", "union__name"]
    list_select_related = ["union"]
    autocomplete_fields = ["union"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (_("Role and union"), {"fields": ("role", "union")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "full_name",
                    "role",
                    "union",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(union__in=unions_in_scope(request.user))

    def save_related(self, request, form, formsets, change):
        # After the form's own m2m save, so the role's group is not overwritten by it.
        super().save_related(request, form, formsets, change)
        user_set_role(user=form.instance, role=form.instance.role, union=form.instance.union)

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# Django's own group admin, re-registered only to take the project's POSTed search.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(
    PermissionLabels, NoLinkRowsOnDelete, NotFoundOutsideScope, TokenSearchMixin, BaseGroupAdmin
):
    pass
