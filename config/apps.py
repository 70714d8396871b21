"""Chinese names for two third-party apps whose own names are English only (issue 13, item
15): their sections of the admin read 登录限制 and 后台任务, and the rows they list read as
Chinese too. INSTALLED_APPS names these configs instead of the apps."""

from axes.apps import AppConfig as AxesAppConfig
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_tasks_db.apps import TasksAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = _("Sign-in throttling")

    def ready(self):
        super().ready()
        from axes.models import AccessAttempt, AccessFailureLog

        # axes writes these in English (an f-string): they head the change and delete pages.
        AccessAttempt.__str__ = _attempt_str
        AccessFailureLog.__str__ = _failure_str


class TasksDbConfig(TasksAppConfig):
    verbose_name = _("Background jobs")

    def ready(self):
        super().ready()
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.__str__ = _task_str


def _attempt_str(attempt) -> str:
    return gettext("Failed sign-ins of %(username)s from %(address)s") % {
        "username": attempt.username,
        "address": attempt.ip_address,
    }


def _failure_str(failure) -> str:
    return gettext("Failed sign-in of %(username)s from %(address)s") % {
        "username": failure.username,
        "address": failure.ip_address,
    }


def _task_str(result) -> str:
    return gettext("Background job %(id)s") % {"id": result.id}
