from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    DISTRICT = "district", _("District federation")
    TOWN = "town", _("Town federation")
    GRASSROOTS = "grassroots", _("Grassroots union")


class Kind(models.TextChoices):
    COMMUNITY = "community", _("Community")
    ENTERPRISE = "enterprise", _("Enterprise")
    VILLAGE = "village", _("Village")


# Which level a node's parent must have; the district is the root.
PARENT_LEVEL = {Level.DISTRICT: None, Level.TOWN: Level.DISTRICT, Level.GRASSROOTS: Level.TOWN}
PATH_SEGMENT = 8  # digits of the primary key per level in Union.path


class Union(models.Model):
    """A node of the district -> town -> grassroots hierarchy.

    `path` is a materialized path of zero-padded primary keys ("00000001/00000004/"), so the
    subtree of a node is one indexed prefix query. It is maintained by unions.services only.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent union"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The complaint line printed on public-notice lists (公示名单) of a town's cases.
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    path = models.CharField(_("tree path"), max_length=64, unique=True, editable=False)

    class Meta:
        verbose_name = _("union")
        verbose_name_plural = _("unions")
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                name="union_level_shape",
                condition=(
                    Q(level=Level.DISTRICT, parent__isnull=True, kind="")
                    | Q(level=Level.TOWN, parent__isnull=False, kind="")
                    | (Q(level=Level.GRASSROOTS, parent__isnull=False) & ~Q(kind=""))
                ),
                violation_error_message=_(
                    "A district has no parent; towns and grassroots unions have one; "
                    "only grassroots unions have a type."
                ),
            ),
        ]
        indexes = [
            # Prefix (LIKE 'x%') lookups on PostgreSQL need the pattern operator class.
            models.Index(
                fields=["path"], name="union_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        expected = PARENT_LEVEL.get(self.level)
        if expected is None and self.parent_id is not None:
            errors["parent"] = _("A district federation has no parent union.")
        elif expected is not None:
            if self.parent is None:
                errors["parent"] = _("A %(level)s needs a parent union.") % {
                    "level": self.get_level_display()
                }
            elif self.parent.level != expected:
                errors["parent"] = _("The parent of a %(level)s must be a %(parent)s.") % {
                    "level": self.get_level_display(),
                    "parent": Level(expected).label,
                }
        if self.level == Level.GRASSROOTS and not self.kind:
            errors["kind"] = _("A grassroots union needs a type (community, enterprise, village).")
        if self.level != Level.GRASSROOTS and self.kind:
            errors["kind"] = _("Only grassroots unions have a type.")
        if errors:
            raise ValidationError(errors)

    def is_ancestor_of(self, other: "Union") -> bool:
        """True when `other` is this union or lies below it."""
        return other.path.startswith(self.path)

    @property
    def town(self) -> "Union | None":
        """The town federation this union belongs to (itself for a town)."""
        if self.level == Level.TOWN:
            return self
        if self.level == Level.GRASSROOTS:
            return self.parent
        return None


class Role(models.TextChoices):
    CASEWORKER = "caseworker", _("Caseworker")
    TOWN_REVIEWER = "town_reviewer", _("Town reviewer")
    DISTRICT_OFFICER = "district_officer", _("District officer")


# The union level each role must sit at.
ROLE_LEVEL = {
    Role.CASEWORKER: Level.GRASSROOTS,
    Role.TOWN_REVIEWER: Level.TOWN,
    Role.DISTRICT_OFFICER: Level.DISTRICT,
}


class User(AbstractUser):
    """A person who signs in. The role decides what they may do, the union what they see."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    union = models.ForeignKey(
        Union,
        verbose_name=_("union"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, blank=True)

    class Meta(AbstractUser.Meta):
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                name="user_role_needs_union",
                condition=Q(role="", union__isnull=True) | (~Q(role="") & Q(union__isnull=False)),
                violation_error_message=_("A role and a union go together: set both or neither."),
            ),
        ]

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self):
        return self.full_name or super().get_full_name() or self.username

    def get_short_name(self):
        # The admin greets users with this (欢迎，陈志强), not with their username.
        return self.full_name or super().get_short_name() or self.username

    def clean(self):
        super().clean()
        if self.role and self.union_id is None:
            raise ValidationError({"union": _("A user with a role must belong to a union.")})
        if self.union_id is not None and not self.role:
            raise ValidationError({"role": _("A user who belongs to a union needs a role.")})
        if self.role and self.union is not None:
            needed = ROLE_LEVEL[Role(self.role)]
            if self.union.level != needed:
                raise ValidationError(
                    {
                        "union": _("A %(role)s must belong to a %(level)s.")
                        % {"role": self.get_role_display(), "level": Level(needed).label}
                    }
                )
