"""Group robots (edited by those who administer the union: its subtree) and the deliveries
(read-only, to see what was sent, what failed and why)."""

from urllib.parse import urlsplit

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from notifications.models import Delivery, GroupRobot
from relief.admin_search import TokenSearchMixin
from unions.admin_scope import NotFoundOutsideScope
from unions.models import Role
from unions.selectors import scope_q, union_in_scope, unions_in_scope

# The roles that administer the unions of their subtree (caseworkers work outside the admin).
ROBOT_ROLES = (Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER)


def _administers(user, union=None) -> bool:
    if not user.is_active or not user.is_staff:
        return False
    if user.is_superuser:
        return True
    if user.role not in ROBOT_ROLES:
        return False
    return union is None or union_in_scope(user, union)


def _masked_address(url: str) -> str:
    """The host and path: the key or access token in the query is the robot's password."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "…"
    return f"{parts.netloc}{parts.path}?…"


class GroupRobotForm(forms.ModelForm):
    # Write-only: never sent back to the browser; left empty, the saved one is kept.
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        max_length=200,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_(
            "DingTalk only, when the robot signs its requests (加签): the secret beginning with "
            "SEC. Never shown again; leave empty to keep the saved one."
        ),
    )
    clear_secret = forms.BooleanField(label=_("remove the saved secret"), required=False)

    class Meta:
        model = GroupRobot
        fields = ["union", "kind", "webhook_url", "secret", "is_active"]
        widgets = {"webhook_url": forms.TextInput(attrs={"class": "vLargeTextField"})}
        help_texts = {
            "webhook_url": _(
                "Copy the robot's address from the group chat's robot settings and paste it "
                "here; only the addresses of WeCom's and DingTalk's own servers are accepted."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._saved_secret = self.instance.secret if self.instance.pk else ""
        if self._saved_secret and "secret" in self.fields:
            self.fields["secret"].help_text = _(
                "A secret is saved. Enter a new one to replace it, or leave empty to keep it."
            )

    def clean_webhook_url(self):
        return (self.cleaned_data.get("webhook_url") or "").strip()

    def _post_clean(self):
        # Keep the saved secret unless a new one is typed or removal is asked for; the
        # model's clean (notifications.robots.check_webhook) then checks the result.
        if not self.cleaned_data.get("secret") and "secret" not in self._errors:
            # (clear_secret is only on the form of a robot with a saved secret)
            keep = not self.cleaned_data.get("clear_secret")
            self.cleaned_data["secret"] = self._saved_secret if keep else ""
        super()._post_clean()


@admin.register(GroupRobot)
class GroupRobotAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    form = GroupRobotForm
    list_display = ["union", "kind", "address", "secret_set", "is_active", "updated_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["union__name", "union__code"]
    list_select_related = ["union"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "union"))

    def get_fields(self, request, obj=None):
        clear = ["clear_secret"] if obj is not None and obj.secret else []
        return ["union", "kind", "webhook_url", "secret", *clear, "is_active"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "union":
            kwargs["queryset"] = unions_in_scope(request.user).filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return _administers(request.user)

    def has_view_permission(self, request, obj=None):
        return _administers(request.user, obj.union if obj else None)

    def has_add_permission(self, request):
        return _administers(request.user)

    def has_change_permission(self, request, obj=None):
        return _administers(request.user, obj.union if obj else None)

    def has_delete_permission(self, request, obj=None):
        return _administers(request.user, obj.union if obj else None)

    @admin.display(description=_("webhook address"))
    def address(self, obj):
        return _masked_address(obj.webhook_url)

    @admin.display(description=_("signing secret"), boolean=True)
    def secret_set(self, obj):
        return bool(obj.secret)


@admin.register(Delivery)
class DeliveryAdmin(NotFoundOutsideScope, TokenSearchMixin, admin.ModelAdmin):
    list_display = ["subject", "channel", "union", "status", "attempts", "next_attempt_at"]
    list_filter = ["status", "channel"]
    search_fields = ["subject"]
    list_select_related = ["union"]
    fields = [
        "channel",
        "union",
        "robot",
        "recipient",
        "application",
        "kind",
        "subject",
        "body",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "created_at",
        "sent_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).filter(scope_q(request.user, "union"))

    def has_module_permission(self, request):
        return _administers(request.user)

    def has_view_permission(self, request, obj=None):
        return _administers(request.user, obj.union if obj else None)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
