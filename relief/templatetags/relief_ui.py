"""Small presentation helpers for the caseworker templates."""

from django import template
from django.utils import timezone

from relief.models import ApplicationState
from relief.models.money import yuan as yuan_text

register = template.Library()


@register.filter
def yuan(value):
    """¥1,234.50; empty for None."""
    if value is None or value == "":
        return ""
    return yuan_text(value)


@register.simple_tag
def case_amount(application):
    """(label, amount) of the case's headline amount (relief.views.presenters)."""
    from relief.views.presenters import headline_amount

    return headline_amount(application)


@register.filter
def state_label(value):
    try:
        return ApplicationState(value).label
    except ValueError:
        return value


@register.simple_tag(takes_context=True)
def query_with(context, **changes):
    """The current query string with some parameters replaced (pagination links)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        if value in (None, ""):
            query.pop(key, None)
        else:
            query[key] = value
    encoded = query.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def age(born):
    """Whole years since `born`, today in the project's time zone."""
    if not born:
        return ""
    today = timezone.localdate()
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
