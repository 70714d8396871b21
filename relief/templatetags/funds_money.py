"""{{ value|money }}: 1,234.50 from a Decimal, whatever the language's number format."""

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return ""
    return f"{Decimal(value):,.2f}"
