"""Telling the next actors: called for every audit entry (relief.services.audit.audit), the
one write every transition of a case goes through.

Nothing happens inside the transition's transaction except registering a callback with
transaction.on_commit: a rolled-back transition (or a savepoint of a review meeting that is
rolled back) tells nobody, and any error while notifying is logged, never raised into the
transition or the request that made it.

A step over many cases in one transaction (a payout batch marked paid, a review meeting) runs
inside `batched()`: its transitions are told in one pass after the commit, with a fixed number
of queries whatever the number of cases. Each case still gets its own line in each recipient's
in-app list (one insert for all), but a group robot gets one message per step listing the
cases, and a mailbox one e-mail: a union's group chat is not sent forty messages for one batch.
"""

import contextlib
import contextvars
import functools
import logging
from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications.models import Channel, Delivery, GroupRobot, Notification
from notifications.rules import CW, DISTRICT, TOWN, rule_for

log = logging.getLogger(__name__)

# A robot message or an e-mail about several cases lists at most this many; the rest is a
# count and the link to the role's list (a WeCom markdown message holds 4,096 bytes).
LISTED_CASES = 20


class _Batch:
    """The transitions recorded inside one `batched()` block.

    Each event's own on-commit callback only marks it as committed (a savepoint rolled back
    drops its callbacks, as for a single transition); the block's one callback, registered
    after all of them, tells the committed ones.
    """

    def __init__(self):
        self.events: list[dict] = []
        self.committed: set[int] = set()

    def mark(self, index: int) -> None:
        self.committed.add(index)

    def flush(self) -> None:
        events = [self.events[i] for i in sorted(self.committed)]
        self.events, self.committed = [], set()
        if events:
            _after_commit(events)


_current_batch: contextvars.ContextVar[_Batch | None] = contextvars.ContextVar(
    "notifications_batch", default=None
)


@contextlib.contextmanager
def batched():
    """Tell the transitions recorded inside the block in one pass, after the commit.

    Use it inside the transaction of a step over many cases; nested blocks join the outer one.
    Left by an exception, the block tells nobody (the transaction is being rolled back).
    """
    if _current_batch.get() is not None:
        yield
        return
    batch = _Batch()
    token = _current_batch.set(batch)
    try:
        yield
    finally:
        _current_batch.reset(token)
    if batch.events:
        transaction.on_commit(batch.flush, robust=True)


def transition_recorded(entry) -> None:
    """Register the notification of the transition `entry` records, for after the commit."""
    try:
        if entry.application_id is None or not entry.to_state:
            return
        if entry.from_state == entry.to_state:
            return
        if rule_for(entry.action, entry.from_state, entry.to_state) is None:
            return
        event = {
            "application_id": entry.application_id,
            "actor_id": entry.actor_id,
            "action": entry.action,
            "from_state": entry.from_state,
            "to_state": entry.to_state,
        }
        batch = _current_batch.get()
        if batch is None:
            transaction.on_commit(functools.partial(_after_commit, [event]), robust=True)
        else:
            batch.events.append(event)
            transaction.on_commit(functools.partial(batch.mark, len(batch.events) - 1), robust=True)
    except Exception:
        log.exception("notifications: could not register the notice of audit entry %s", entry.pk)


def _after_commit(events: list[dict]) -> None:
    try:
        notify_all(events)
    except Exception:
        log.exception("notifications: notifying %s failed", events)


def _sits_at(application, role):
    """The union where the people of `role` who act on the case sit."""
    town = application.union.parent
    return {CW: application.union, TOWN: town, DISTRICT: town.parent if town else None}[role]


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


def list_path(role) -> str:
    """Where the role's cases are listed: the caseworkers' home page, the admin's case list."""
    return "/" if role == CW else reverse("admin:relief_application_changelist")


def _ancestors(path: str) -> list[str]:
    # The case's union and the unions above it: each one's subtree holds the case.
    return [path[: i + 1] for i, c in enumerate(path) if c == "/"]


def several_subject(count: int, rule) -> str:
    return ngettext("%(count)d case: %(step)s", "%(count)d cases: %(step)s", count) % {
        "count": count,
        "step": rule.step,
    }


def several_body(applications, rule, role, *, markdown: bool) -> str:
    """One message about several cases that took the same step (a batch, a meeting): each by
    reference, union and link, as message_body names one case; no personal data or money."""
    subject = several_subject(len(applications), rule)
    lines = []
    for application in applications[:LISTED_CASES]:
        link = absolute(case_path(application, role))
        union = application.union.name
        if markdown:
            lines.append(f"- [{application.reference}]({link}) · {union}")
        else:
            lines.append(f"- {application.reference} · {union}: {link}")
    if len(applications) > LISTED_CASES:
        lines.append(_("… and %(n)s more") % {"n": len(applications) - LISTED_CASES})
    open_list = _("Open the list")
    link = absolute(list_path(role))
    if markdown:
        return "\n".join([f"**{subject}**", "", *lines, "", f"[{open_list}]({link})"])
    return "\n".join([subject, "", *lines, "", f"{open_list}: {link}", ""])


def notify(*, application_id, actor_id, action, from_state, to_state) -> list[Delivery]:
    """Write the in-app notifications and the deliveries of one transition, and queue them."""
    return notify_all(
        [
            {
                "application_id": application_id,
                "actor_id": actor_id,
                "action": action,
                "from_state": from_state,
                "to_state": to_state,
            }
        ]
    )


def notify_all(events: list[dict]) -> list[Delivery]:
    """Write the in-app notifications and the deliveries of these transitions, and queue them.

    A fixed number of queries whatever the number of events: the cases, the recipients and the
    robots are read once, the notifications and the deliveries written in one insert each.
    In the app every recipient gets a line per case; a robot gets one message per step (and
    role) listing its cases, a mailbox one e-mail per step.
    """
    from relief.models import Application
    from unions.models import User

    applications = Application.objects.select_related("union__parent__parent").in_bulk(
        {e["application_id"] for e in events}
    )
    # The step of each case, only where the case still stands after the commit (a meeting
    # verifies and recommends at once: only the recommendation is told); a case told once
    # per step.
    steps: dict[tuple, tuple] = {}
    for event in events:
        application = applications.get(event["application_id"])
        if application is None or application.state != event["to_state"]:
            continue
        rule = rule_for(event["action"], event["from_state"], event["to_state"])
        if rule is None:
            continue
        steps[(application.pk, rule.kind)] = (application, rule, event["actor_id"])
    if not steps:
        return []
    roles = {role for _app, rule, _actor in steps.values() for role in rule.roles}
    paths = {p for app, _rule, _actor in steps.values() for p in _ancestors(app.union.path)}
    users_at: dict[tuple, list] = defaultdict(list)
    for user in User.objects.filter(
        role__in=roles, is_active=True, union__path__in=paths
    ).select_related("union"):
        users_at[(user.role, user.union.path)].append(user)
    sits = {
        (app.pk, role): _sits_at(app, role)
        for app, rule, _actor in steps.values()
        for role in rule.roles
    }
    robots = {
        robot.union_id: robot
        for robot in GroupRobot.objects.filter(
            is_active=True, union__in=[u.pk for u in sits.values() if u is not None]
        )
    }
    notifications = []
    mails: dict[tuple, list] = defaultdict(list)  # (user, rule, role) -> cases
    robot_cases: dict[tuple, list] = defaultdict(list)  # (robot, union, rule, role) -> cases
    with translation.override(settings.LANGUAGE_CODE):
        for application, rule, actor_id in steps.values():
            title = title_for(application, rule)
            for role in rule.roles:
                users = [
                    user
                    for path in _ancestors(application.union.path)
                    for user in users_at.get((role, path), ())
                    if user.pk != actor_id
                ]
                notifications += [
                    Notification(
                        recipient=user,
                        application=application,
                        kind=rule.kind,
                        title=title,
                        link=case_path(application, role),
                    )
                    for user in users
                ]
                if settings.NOTIFY_EMAIL:
                    for user in users:
                        if user.email:
                            mails[(user, rule, role)].append(application)
                union = sits[(application.pk, role)]
                robot = robots.get(union.pk) if union is not None else None
                if robot is not None:
                    robot_cases[(robot, union, rule, role)].append(application)
        deliveries = [
            _delivery(cases, rule, role, channel=Channel.EMAIL, union=user.union, recipient=user)
            for (user, rule, role), cases in mails.items()
        ] + [
            _delivery(cases, rule, role, channel=Channel.ROBOT, union=union, robot=robot)
            for (robot, union, rule, role), cases in robot_cases.items()
        ]
    with transaction.atomic():
        Notification.objects.bulk_create(notifications)
        deliveries = Delivery.objects.bulk_create(deliveries)
    for delivery in deliveries:
        queue(delivery)
    return deliveries


def _delivery(applications, rule, role, *, channel, **to) -> Delivery:
    markdown = channel == Channel.ROBOT
    if len(applications) == 1:
        (application,) = applications
        subject = title_for(application, rule)
        body = message_body(application, rule, role, markdown=markdown)
    else:
        application = None
        subject = several_subject(len(applications), rule)
        body = several_body(applications, rule, role, markdown=markdown)
    return Delivery(
        channel=channel,
        application=application,
        kind=rule.kind,
        subject=subject,
        body=body,
        **to,
    )


def queue(delivery) -> None:
    from notifications.tasks import send_delivery

    try:
        send_delivery.enqueue(delivery.pk)
    except Exception:
        log.exception("notifications: could not queue delivery %s", delivery.pk)
