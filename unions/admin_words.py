"""Pieces that keep Django's own admin pages Chinese where Django writes English (issue 13,
item 15): permission names, the rows of link tables on delete pages, the password form's
warning."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

# The four permissions Django makes for every model, by the start of their codename.
DEFAULT_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def permission_label(permission) -> str:
    """What Django stores in English ("Can add worker"), from the model's translated name;
    custom permissions keep their own (translatable) name from the model's Meta."""
    model = permission.content_type.model_class()
    if model is None:  # a model since removed
        return str(permission)
    opts = model._meta
    action = permission.codename.split("_", 1)[0]
    if action in DEFAULT_ACTIONS and permission.codename == f"{action}_{opts.model_name}":
        name = DEFAULT_ACTIONS[action] % {"model": opts.verbose_name}
    else:
        name = str(dict(opts.permissions).get(permission.codename, permission.name))
    return f"{capfirst(opts.app_config.verbose_name)} | {capfirst(opts.verbose_name)} | {name}"


class PermissionLabels:
    """ModelAdmin mixin: permission choices (groups, users) named in the user's language."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in ("permissions", "user_permissions"):
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_label
        return field


class NoLinkRowsOnDelete:
    """ModelAdmin mixin: the delete page does not list, one by one, the rows of Django's own
    many-to-many link tables ("Group-permission relationship: Group_permissions object (7)",
    in English whatever the language); they go with the object and say nothing more."""

    def get_deleted_objects(self, objs, request):
        to_delete, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        links = _link_models()
        prefixes = tuple(f"{capfirst(m._meta.verbose_name)}: " for m in links)
        plurals = {str(m._meta.verbose_name_plural) for m in links}

        def keep(items):
            kept = []
            for item in items:
                if isinstance(item, list):
                    inner = keep(item)
                    if inner:
                        kept.append(inner)
                elif not str(item).startswith(prefixes):
                    kept.append(item)
            return kept

        model_count = {k: v for k, v in model_count.items() if str(k) not in plurals}
        return keep(to_delete), model_count, perms_needed, protected


def _link_models():
    from django.apps import apps

    return [m for m in apps.get_models(include_auto_created=True) if m._meta.auto_created]


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django appends its warning to the help text untranslated."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("usable_password")
        if isinstance(field, forms.Field):
            field.help_text = format_html(
                '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li>'
                "</ul>",
                self.usable_password_help_text.split("<ul")[0],
                gettext("If disabled, the current password for this user will be lost."),
            )


class _SafeAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget looks the submitted value up to redisplay it, and a value
    that is no id at all ("1e309") makes that lookup raise (a 500 instead of the form again
    with 选择一个有效的选项). Values the primary key cannot take are not looked up."""

    def optgroups(self, name, value, attr=None):
        pk = self.field.remote_field.model._meta.pk
        kept = []
        for v in value:
            try:
                number = pk.to_python(v)
            except ValidationError:
                continue
            if number in (None, "") or not isinstance(number, int) or 0 < number < 2**63:
                kept.append(v)
        return super().optgroups(name, kept, attr)


class SafeAutocomplete:
    """ModelAdmin mixin: autocomplete fields redisplay any submitted value without a 500."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = _SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
