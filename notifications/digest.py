"""The daily digest of overdue work (`manage.py send_digests`, run once a day by cron/systemd).

Each user with overdue items in their queue (relief.queues.overdue_for) gets one in-app
notification linking to their queue, and an e-mail where e-mail is configured; each union with
an active group robot gets one message listing the overdue items of the people who sit there.
Like the transition notices, a digest names cases by reference and step only: no name, ID
number, health detail or amount (the queue items' titles are full names, so they are not used).

Sending twice on one day sends nothing new: a user or robot already sent today's digest is
skipped, so a retried cron job is harmless.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications.hooks import absolute, queue
from notifications.models import Channel, Delivery, GroupRobot, Kind, Notification
from unions.models import Role

# A robot message lists at most this many items; the rest is a count and the link.
ROBOT_ITEMS = 20


@dataclass
class DigestRun:
    users: int = 0
    notified: int = 0
    emails: int = 0
    robots: int = 0
    skipped: int = 0
    items: int = 0
    requeued: int = 0
    by_union: dict = field(default_factory=lambda: defaultdict(dict))


def queue_link(user) -> str:
    """Where the user's queue is: the home page for caseworkers, the admin index otherwise."""
    return "/" if user.role == Role.CASEWORKER else "/admin/"


def _line(item) -> str:
    days = ngettext("%(n)s working day overdue", "%(n)s working days overdue", item.overdue_by) % {
        "n": item.overdue_by
    }
    due = item.due.isoformat() if item.due else ""
    return _("%(reference)s · %(step)s · due %(due)s · %(days)s") % {
        "reference": item.reference,
        "step": str(item.step),
        "due": due,
        "days": days,
    }


def _subject(count: int, today: dt.date) -> str:
    return ngettext("Overdue on %(day)s: %(n)s item", "Overdue on %(day)s: %(n)s items", count) % {
        "day": today.isoformat(),
        "n": count,
    }


def send_digests(*, today: dt.date | None = None) -> DigestRun:
    from relief.queues import overdue_for
    from unions.models import User

    today = today or timezone.localdate()
    start = timezone.make_aware(dt.datetime.combine(today, dt.time()))
    run = DigestRun()
    users = User.objects.filter(is_active=True, role__in=list(Role.values)).select_related("union")
    already = set(
        Notification.objects.filter(kind=Kind.DIGEST, created_at__gte=start).values_list(
            "recipient_id", flat=True
        )
    )
    with translation.override(settings.LANGUAGE_CODE):
        for user in users.order_by("pk"):
            items = overdue_for(user, today=today)
            if not items:
                continue
            run.users += 1
            run.items += len(items)
            for item in items:
                run.by_union[user.union_id][(item.kind, item.pk, item.group)] = item
            if user.pk in already:
                run.skipped += 1
                continue
            subject = _subject(len(items), today)
            with transaction.atomic():
                Notification.objects.create(
                    recipient=user, kind=Kind.DIGEST, title=subject, link=queue_link(user)
                )
                run.notified += 1
                if settings.NOTIFY_EMAIL and user.email:
                    body = "\n".join(
                        [subject, "", *[_line(i) for i in items], "", absolute(queue_link(user))]
                    )
                    delivery = Delivery.objects.create(
                        channel=Channel.EMAIL,
                        union=user.union,
                        recipient=user,
                        kind=Kind.DIGEST,
                        subject=subject,
                        body=body,
                    )
                    transaction.on_commit(lambda d=delivery: queue(d))
                    run.emails += 1
        run.robots = _robot_digests(run, today, start)
    # Also the daily pass over messages whose queueing failed (notifications.tasks).
    from notifications.tasks import requeue_stale

    run.requeued = requeue_stale()
    return run


def _robot_digests(run: DigestRun, today: dt.date, start: dt.datetime) -> int:
    """One message per union whose people have overdue items and which has a robot."""
    robots = GroupRobot.objects.filter(is_active=True, union_id__in=list(run.by_union))
    sent_today = set(
        Delivery.objects.filter(
            kind=Kind.DIGEST, channel=Channel.ROBOT, created_at__gte=start
        ).values_list("union_id", flat=True)
    )
    count = 0
    for robot in robots.select_related("union"):
        if robot.union_id in sent_today:
            continue
        items = sorted(run.by_union[robot.union_id].values(), key=lambda i: i.sort_key)
        subject = _subject(len(items), today)
        lines = [f"- {_line(i)}" for i in items[:ROBOT_ITEMS]]
        if len(items) > ROBOT_ITEMS:
            lines.append(_("… and %(n)s more") % {"n": len(items) - ROBOT_ITEMS})
        link = absolute("/admin/" if robot.union.level != "grassroots" else "/")
        open_label = _("Open")
        body = "\n".join(
            [f"**{subject}**", "", f"{robot.union.name}", "", *lines, "", f"[{open_label}]({link})"]
        )
        with transaction.atomic():
            delivery = Delivery.objects.create(
                channel=Channel.ROBOT,
                union=robot.union,
                robot=robot,
                kind=Kind.DIGEST,
                subject=subject,
                body=body,
            )
            transaction.on_commit(lambda d=delivery: queue(d))
        sent_today.add(robot.union_id)
        count += 1
    return count
