from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

CENT = Decimal("0.01")


def MoneyField(verbose_name, **kwargs):
    """Yuan with two decimals, up to 9,999,999,999.99."""
    return models.DecimalField(verbose_name, max_digits=12, decimal_places=2, **kwargs)


def to_money(value) -> Decimal | None:
    """Accept Decimal, int or numeric text (never float: binary fractions are not money)."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        raise TypeError("money must not be a float")
    return Decimal(str(value))


def clean_amount(value, field: str = "amount") -> Decimal:
    """A positive amount in yuan with at most two decimals, or a ValidationError on `field`."""
    amount = None if isinstance(value, bool) else to_money(value)
    if amount is None or amount <= 0:
        raise ValidationError({field: gettext("Enter an amount greater than zero.")})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: gettext("Amounts have at most two decimals (fen).")})
    return amount


def to_cents(value) -> Decimal:
    """An SQL sum as exact yuan and fen: SQLite adds decimals in floating point."""
    return Decimal(value or 0).quantize(CENT)


def yuan(value) -> str:
    """'¥1,234.50' for messages."""
    return _("¥%(amount)s") % {"amount": f"{Decimal(value):,.2f}"}
