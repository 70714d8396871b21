import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from relief.idcard import birth_date_of, gender_of, mask_card, mask_id_number, validate_id_number
from relief.models.money import MoneyField


class Worker(models.Model):
    """One person, one record, whichever union files (the ID number is unique system-wide)."""

    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_number = models.CharField(
        _("ID number"), max_length=18, unique=True, validators=[validate_id_number]
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    employer = models.CharField(_("employer"), max_length=100, blank=True)
    union = models.ForeignKey(
        "unions.Union",
        verbose_name=_("grassroots union"),
        on_delete=models.PROTECT,
        related_name="workers",
        limit_choices_to={"level": "grassroots"},
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    # 户籍 is recorded for information only: nothing may filter, score or block on it.
    hukou = models.CharField(_("household registration"), max_length=100, blank=True)
    health = models.CharField(_("health condition"), max_length=200, blank=True)
    realname_verified = models.BooleanField(
        _("real-name verified (粤工惠)"),
        default=False,
        help_text=_("Union-member real-name status on 粤工惠; information, never a condition."),
    )
    bank_name = models.CharField(_("bank"), max_length=50, blank=True)
    bank_branch = models.CharField(_("branch"), max_length=100, blank=True)
    bank_card = models.CharField(_("card number"), max_length=30, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("worker")
        verbose_name_plural = _("workers")
        ordering = ["name"]
        permissions = [("view_full_id_number", _("Can see full ID and card numbers"))]
        # The admin's worker list is ordered by name (issue 16).
        indexes = [models.Index(fields=["name", "id"], name="worker_name_id")]
        constraints = [
            models.CheckConstraint(
                name="worker_id_number_18", condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$")
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.masked_id_number})"

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_card(self) -> str:
        return mask_card(self.bank_card)

    # Column and field names where the admin shows these (a property has no verbose_name).
    masked_id_number.fget.short_description = _("ID number")
    masked_card.fget.short_description = _("card number")

    @property
    def birth_date(self):
        return birth_date_of(self.id_number)

    @property
    def gender(self) -> str:
        return gender_of(self.id_number)

    def get_gender_display(self) -> str:
        return {"M": _("male"), "F": _("female")}.get(self.gender, "")


EARLIEST_BIRTH = dt.date(1900, 1, 1)


def birth_date_problem(born) -> str:
    """Why a birth date cannot be right ("" if it can): before 1900 or in the future."""
    if born is None:
        return ""
    if born < EARLIEST_BIRTH:
        return _("A birth date cannot be before %(date)s.") % {"date": EARLIEST_BIRTH.isoformat()}
    if born > timezone.localdate():
        return _("A birth date cannot be in the future.")
    return ""


class HouseholdMember(models.Model):
    worker = models.ForeignKey(
        Worker, verbose_name=_("worker"), on_delete=models.CASCADE, related_name="household"
    )
    relation = models.CharField(_("relation"), max_length=20)
    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
    id_number = models.CharField(
        _("ID number"), max_length=18, blank=True, validators=[validate_id_number]
    )
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    age = models.PositiveSmallIntegerField(_("age"), null=True, blank=True)
    health = models.CharField(_("health condition"), max_length=200, blank=True)
    occupation = models.CharField(_("school or job"), max_length=100, blank=True)
    monthly_income = MoneyField(_("monthly income"), default=0, validators=[MinValueValidator(0)])
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("household member")
        verbose_name_plural = _("household members")
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                name="household_income_not_negative", condition=Q(monthly_income__gte=0)
            ),
        ]

    def __str__(self):
        return f"{self.relation} {self.name}"

    def clean(self):
        # Every write of a member (the forms and the import) runs full_clean: no 1899, no 9999.
        problem = birth_date_problem(self.birth_date)
        if problem:
            raise ValidationError({"birth_date": problem})

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def current_age(self) -> int | None:
        born = self.birth_date or birth_date_of(self.id_number)
        if born is None:
            return self.age
        today = timezone.localdate()
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))

    masked_id_number.fget.short_description = _("ID number")
    current_age.fget.short_description = _("age")
