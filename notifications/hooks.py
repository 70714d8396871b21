"""Telling the next actors: called for every audit entry (relief.services.audit.audit), the
one write every transition of a case goes through.

Nothing happens inside the transition's transaction except registering a callback with
transaction.on_commit: a rolled-back transition (or a savepoint of a review meeting that is
rolled back) tells nobody, and any error while notifying is logged, never raised into the
transition or the request that made it.
"""

import functools
import logging

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from notifications.models import Channel, Delivery, GroupRobot, Notification
from notifications.rules import CW, DISTRICT, TOWN, rule_for

log = logging.getLogger(__name__)


def transition_recorded(entry) -> None:
    """Register the notification of the transition `entry` records, for after the commit."""
    try:
        if entry.application_id is None or not entry.to_state:
            return
        if entry.from_state == entry.to_state:
            return
        if rule_for(entry.action, entry.from_state, entry.to_state) is None:
            return
        transaction.on_commit(
            functools.partial(
                _after_commit,
                application_id=entry.application_id,
                actor_id=entry.actor_id,
                action=entry.action,
                from_state=entry.from_state,
                to_state=entry.to_state,
            ),
            robust=True,
        )
    except Exception:
        log.exception("notifications: could not register the notice of audit entry %s", entry.pk)


def _after_commit(**event) -> None:
    try:
        notify(**event)
    except Exception:
        log.exception("notifications: notifying %s failed", event)


def _sits_at(application, role):
    """The union where the people of `role` who act on the case sit."""
    town = application.union.parent
    return {CW: application.union, TOWN: town, DISTRICT: town.parent if town else None}[role]


def recipients(application, role, actor_id=None):
    """The active users of `role` whose scope (union subtree) holds the case."""
    from unions.models import User

    path = application.union.path
    # The case's union and the unions above it: each one's subtree holds the case.
    ancestors = [path[: i + 1] for i, c in enumerate(path) if c == "/"]
    users = User.objects.filter(role=role, is_active=True, union__path__in=ancestors)
    return users.exclude(pk=actor_id) if actor_id else users


def case_path(application, role) -> str:
    """The case page the role works on: caseworkers' site page, the admin for the others."""
    if role == CW:
        return reverse("relief:case_detail", args=[application.pk])
    return reverse("admin:relief_application_change", args=[application.pk])


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def title_for(application, rule) -> str:
    return _("Case %(reference)s: %(step)s") % {
        "reference": application.reference,
        "step": rule.step,
    }


def message_body(application, rule, role, *, markdown: bool) -> str:
    """What a robot or an e-mail says. Deliberately no name, ID number, health, bank or
    amount: a group chat and a mailbox are read by more people, and on more devices, than the
    role's pages; the link opens the case for whoever may see it."""
    link = absolute(case_path(application, role))
    title = title_for(application, rule)
    union = _("Union: %(union)s") % {"union": application.union.name}
    # (Outside the f-strings: makemessages does not look inside them.)
    open_case = _("Open the case")
    if markdown:
        return f"**{title}**\n\n{union}\n\n[{open_case}]({link})"
    return f"{title}\n\n{union}\n\n{open_case}: {link}\n"


def notify(*, application_id, actor_id, action, from_state, to_state) -> list[Delivery]:
    """Write the in-app notifications and the deliveries of one transition, and queue them."""
    from relief.models import Application

    application = Application.objects.select_related("union__parent__parent").get(pk=application_id)
    if application.state != to_state:
        # A later step in the same transaction (a meeting verifies and recommends at once)
        # moved the case on: only where it stands now is worth telling.
        return []
    rule = rule_for(action, from_state, to_state)
    if rule is None:
        return []
    deliveries = []
    with translation.override(settings.LANGUAGE_CODE), transaction.atomic():
        title = title_for(application, rule)
        for role in rule.roles:
            users = list(recipients(application, role, actor_id).select_related("union"))
            Notification.objects.bulk_create(
                Notification(
                    recipient=user,
                    application=application,
                    kind=rule.kind,
                    title=title,
                    link=case_path(application, role),
                )
                for user in users
            )
            if settings.NOTIFY_EMAIL:
                deliveries += [
                    Delivery(
                        channel=Channel.EMAIL,
                        union=user.union,
                        recipient=user,
                        application=application,
                        kind=rule.kind,
                        subject=title,
                        body=message_body(application, rule, role, markdown=False),
                    )
                    for user in users
                    if user.email
                ]
            union = _sits_at(application, role)
            robot = GroupRobot.objects.filter(union=union, is_active=True).first()
            if robot is not None:
                deliveries.append(
                    Delivery(
                        channel=Channel.ROBOT,
                        union=union,
                        robot=robot,
                        application=application,
                        kind=rule.kind,
                        subject=title,
                        body=message_body(application, rule, role, markdown=True),
                    )
                )
        for delivery in deliveries:
            delivery.save()
    for delivery in deliveries:
        queue(delivery)
    return deliveries


def queue(delivery) -> None:
    from notifications.tasks import send_delivery

    try:
        send_delivery.enqueue(delivery.pk)
    except Exception:
        log.exception("notifications: could not queue delivery %s", delivery.pk)
