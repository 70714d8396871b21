from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def yuan(value) -> str:
    """1234.5 -> "1,234.50"; empty for None (a box not yet filled)."""
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"


@register.filter
def cn_date(value) -> str:
    """2024-03-05 -> "2024年3月5日"."""
    if not value:
        return ""
    return f"{value.year}年{value.month}月{value.day}日"


@register.filter
def iso_date(value) -> str:
    return value.isoformat() if value else ""
