from decimal import Decimal

from django.db import models
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


def to_cents(value) -> Decimal:
    """An SQL sum as exact yuan and fen: SQLite adds decimals in floating point."""
    return Decimal(value or 0).quantize(CENT)


def yuan(value) -> str:
    """'¥1,234.50' for messages."""
    return _("¥%(amount)s") % {"amount": f"{Decimal(value):,.2f}"}
