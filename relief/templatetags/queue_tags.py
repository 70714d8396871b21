"""{% work_queue %}: the signed-in user's 待办, at the top of the admin index."""

from django import template

from relief.queues import queue_for
from unions.models import Role

register = template.Library()

ADMIN_ROLES = {Role.TOWN_REVIEWER, Role.DISTRICT_OFFICER}


@register.inclusion_tag("relief/_queue.html", takes_context=True)
def work_queue(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or getattr(user, "role", "") not in ADMIN_ROLES:
        return {"queue": None}
    return {"queue": queue_for(user), "shown": SHOWN, "request": request, "in_admin": True}


# Items shown per group; the group's count and a link to the full list say the rest.
SHOWN = 10


@register.filter
def first_items(items, shown):
    return list(items)[: int(shown)]


@register.filter
def hidden_count(group, shown) -> int:
    return max(group.count - int(shown), 0)
