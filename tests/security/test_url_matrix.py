"""Every URL of the project, for every role, in and out of scope, by GET and by POST.

POLICY below is the project's access policy, one entry per URL pattern (keyed by its full
route as Django prints it). For each role it says what a GET and a POST answer:

    OK 200 · LOGIN 302 to /login/ · ADMIN_LOGIN 302 to /admin/login/ · DENIED 403 (the role may
    not do this) · NOT_FOUND 404 (outside the user's scope: it does not exist for them) ·
    NOT_ALLOWED 405 (wrong method) · BAD 400 (the request itself is incomplete) · redirect(...)

A role given one value answers the same to GET and POST; `(GET, POST)` otherwise.

Scope. Objects come in two copies (tests/security/world.py): "in" under 西樵 (alice's union,
carol's town) and "out" under 大沥. For entries with an object, the role values are for the
"in" copy; the "out" copy answers NOT_FOUND to alice and carol, unless the value is decided
before the object is looked up (a sign-in redirect, a 405) or the entry says otherwise
(`out=`). Erin (district) and root (superuser) see the whole district: for them "out" is in
scope and answers like "in", unless the entry says otherwise. URLs without an object, or with
an object that has no union (a policy, a group), have one scope, "-".

Requests: Django's test Client, so CSRF checks are off (the middleware is on in production;
this matrix is about who may do what, not about CSRF). POSTs carry an empty body unless the
entry gives a minimal hostile one (a delete confirmation, an out-of-scope unit). Every refused
cell (sign-in redirect, 400, 403, 404, 405) and every POST not marked `writes` must leave the
database exactly as it was; no response alice or carol may receive names the other town's
workers, numbers, cases or unions.

A URL pattern without an entry fails test_every_url_has_a_matrix_entry. To add one, pick the
helper of its shape (admin_model, reviewer_readonly_admin, officer_action_page,
caseworker_case_page, ...) or write a `row(...)`; `pytest tests/security -k "<route id>"` runs
its cells (ids: route with <int:pk> written as pk, then role, scope, method).
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from relief.admin.base import NotFoundOutsideScope
from relief.models import Application
from reports import pdf
from tests.security.world import build_world

ROLES = ("anonymous", "caseworker", "town", "district", "superuser")
USERNAMES = {"caseworker": "alice", "town": "carol", "district": "erin", "superuser": "root"}
NARROW = ("caseworker", "town")  # the roles whose scope excludes the other town
METHODS = ("GET", "POST")


# --- expected answers --------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    # For 302: "login", "admin-login", or a function of the requested path giving the target.
    to: str | Callable[[str], str] | None = None
    writes: bool = False  # an allowed POST that really changes something (rolled back)

    def __repr__(self):
        return f"{self.status}{' ' + self.to if isinstance(self.to, str) else ''}"

    @property
    def before_lookup(self) -> bool:
        """Answered before any object is looked up, so the same in and out of scope."""
        return self.to in ("login", "admin-login") or self.status == 405


OK = Expect(200)
LOGIN = Expect(302, "login")
ADMIN_LOGIN = Expect(302, "admin-login")
DENIED = Expect(403)
NOT_FOUND = Expect(404)
NOT_ALLOWED = Expect(405)
BAD = Expect(400)
REFUSED = {403, 404, 405, 400}


def redirect(to: str | Callable[[str], str], *, writes=False) -> Expect:
    return Expect(302, to if callable(to) else (lambda _path: to), writes)


def see_other(to: str) -> Expect:
    """303 after a POSTed search or lookup: the answer is another page, fetched by GET."""
    return Expect(303, lambda _path: to)


def to_import(path: str) -> str:
    """A confirm without a staged upload (issue 11) answers with the import page."""
    return path.replace("process_import/", "import/")


def to_change_page(path: str) -> str:
    """An old admin address <id>/ goes to <id>/change/, whatever the id."""
    return path + "change/"


class to_parent:
    """The requested path without `suffix` (then + `more`): the page a step goes back to."""

    def __init__(self, suffix: str, more: str = ""):
        self.suffix, self.more = suffix, more

    def __add__(self, more: str) -> "to_parent":
        return to_parent(self.suffix, self.more + more)

    def __call__(self, path: str) -> str:
        return path.removesuffix(self.suffix) + self.more


# --- how to build a URL ----------------------------------------------------------------


def fill(route: str, values: dict) -> str:
    def one(match):
        return str(values[match.group(1)])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", one, route)


@dataclass
class Page:
    """A URL without an object."""

    path: str | None = None  # default: the route itself
    query: dict = field(default_factory=dict)
    scoped = False

    def build(self, world, route, role, scope):
        return self.path or fill(route, {}), self.query


@dataclass
class Obj:
    """The route with its object: `kind` from world.objects[scope], or world.unscoped."""

    kind: str
    values: dict = field(default_factory=dict)

    @property
    def scoped(self):
        return self.kind not in UNSCOPED_KINDS

    def build(self, world, route, role, scope):
        obj = world.unscoped[self.kind] if not self.scoped else world.objects[scope][self.kind]
        values = {"pk": obj.pk, "object_id": obj.pk, "id": obj.pk, **self.values}
        return fill(route, values), {}


UNSCOPED_KINDS = {
    "group",
    "policy",
    "category",
    "working_day",
    "task_result",
    "access_log",
    "access_attempt",
    "access_failure",
}


@dataclass
class Unit:
    """A report on a union: `unit` (and the other fields) in the query string (GET) or the
    body (POST); "in" asks for 西樵, "out" for 大沥."""

    fields: dict = field(default_factory=dict)
    scoped = True

    def build(self, world, route, role, scope):
        code = "XQ" if scope == "in" else "DL"
        return fill(route, {}), {"unit": code, **self.fields}


@dataclass
class TownYear:
    """A town's page for a year, the town's code in the path: "in" 西樵, "out" 大沥."""

    scoped = True

    def build(self, world, route, role, scope):
        code = "XQ" if scope == "in" else "DL"
        return fill(route, {"town": code, "year": YEAR}), {}


@dataclass
class Lookup:
    """A case found by its reference in the query string."""

    scoped = True

    def build(self, world, route, role, scope):
        return fill(route, {}), {"reference": world.objects[scope]["case_draft"].reference}


@dataclass
class Job:
    """A background report: "in" is the requester's own job, "out" another user's."""

    scoped = True

    def build(self, world, route, role, scope):
        owner = "dave" if scope == "out" else USERNAMES.get(role, "carol")
        return fill(route, {"pk": world.jobs[owner].pk}), {}


@dataclass
class Notice:
    """A notification: "in" is the requester's own, "out" another user's (dave's)."""

    scoped = True

    def build(self, world, route, role, scope):
        owner = "dave" if scope == "out" else USERNAMES.get(role, "carol")
        return fill(route, {"pk": world.notices[owner].pk}), {}


@dataclass
class ViewOnSite:
    scoped = True

    def build(self, world, route, role, scope):
        ct = ContentType.objects.get_for_model(Application)
        case = world.objects[scope]["case_draft"]
        return f"/admin/r/{ct.pk}/{case.pk}/", {}


# --- entries -----------------------------------------------------------------------------


@dataclass
class Entry:
    url: object
    roles: dict  # role -> Expect or (GET, POST)
    out: dict = field(default_factory=dict)  # role -> Expect or (GET, POST), out of scope
    post: dict | None = None  # the POST body (default empty)
    id: str = ""
    # The page lists every union by name on purpose (a record may be given to any union):
    # union names are then not counted as a leak; people, numbers and references still are.
    lists_unions: bool = False

    def expect(self, role, scope, method) -> Expect:
        spec = self.roles[role]
        if scope == "out":
            if role in self.out:
                spec = self.out[role]
            elif role in NARROW:
                spec = tuple(e if e.before_lookup else NOT_FOUND for e in _pair(spec))
        return _pair(spec)[METHODS.index(method)]


def _pair(spec) -> tuple[Expect, Expect]:
    return spec if isinstance(spec, tuple) else (spec, spec)


def row(url, *, anonymous=None, caseworker, town, district, superuser, **kw) -> Entry:
    """One URL; anonymous users are sent to sign in unless said otherwise."""
    roles = {
        "anonymous": anonymous or LOGIN,
        "caseworker": caseworker,
        "town": town,
        "district": district,
        "superuser": superuser,
    }
    return Entry(url, roles, **kw)


def admin_row(url, *, town, district, superuser, **kw) -> Entry:
    """An admin page: whoever is not staff (anonymous users, caseworkers) is sent to the admin
    sign-in page before anything is looked up."""
    return row(
        url,
        anonymous=ADMIN_LOGIN,
        caseworker=ADMIN_LOGIN,
        town=town,
        district=district,
        superuser=superuser,
        **kw,
    )


def staff(value=None, *, town=None, district=None, superuser=None) -> dict:
    return {
        "town": town or value,
        "district": district or value,
        "superuser": superuser or value,
    }


DELETE_BODY = {"post": "yes"}  # the confirmation Django's delete page posts


def admin_model(
    app_model, kind, *, changelist, add, change, history, delete, out=None, **extra
) -> dict:
    """The six pages Django's admin makes for a model; each argument is staff(...) values."""
    base = f"admin/{app_model}/"
    obj = Obj(kind)
    entries = {
        base: admin_row(Page(), **changelist),
        f"{base}add/": admin_row(Page(), **add),
        f"{base}<path:object_id>/change/": admin_row(obj, out=out or {}, **change),
        f"{base}<path:object_id>/history/": admin_row(obj, out=out or {}, **history),
        f"{base}<path:object_id>/delete/": admin_row(
            obj, out=out or {}, post=DELETE_BODY, **delete
        ),
        # Django's old-style address: a redirect to .../change/ without any lookup.
        f"{base}<path:object_id>/": admin_row(
            obj,
            **staff(redirect(to_change_page)),
            out={"town": redirect(to_change_page)},
        ),
    }
    for suffix, entry in extra.items():
        entries[f"{base}{suffix}"] = entry
    return entries


def reviewer_readonly_admin(app_model, kind, **extra) -> dict:
    """A list that reviewers, officers and administrators read, scoped; nobody adds, changes
    or deletes here (writes go through the services' forms)."""
    return admin_model(
        app_model,
        kind,
        changelist=staff(OK),
        add=staff(DENIED),
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
        **extra,
    )


def superuser_only_admin(app_model, kind, *, change, delete, add=(OK, OK), out=None) -> dict:
    """People and technical tables: administrators only."""
    return admin_model(
        app_model,
        kind,
        changelist=staff(DENIED, superuser=OK),
        add=staff(DENIED, superuser=add),
        change=staff(DENIED, superuser=change),
        history=staff(DENIED, superuser=OK),
        delete=staff(DENIED, superuser=delete),
        out=out,
    )


def officer_action_page(url, *, post: dict, district=(OK, OK)) -> Entry:
    """A custom admin page of a step only district officers take (on a payment batch, a
    payout), answered like its POST: 404 out of scope, 403 for every other role
    (administrators included: they have no case role). `post` is a complete, valid request
    for the step, so that a refusal is a refusal and not a form error."""
    return admin_row(url, town=DENIED, district=district, superuser=DENIED, post=post)


def caseworker_case_page(url, *, get=OK, post=OK, reviewers=DENIED, anonymous=None) -> Entry:
    """A caseworker's page of a case (or a step on it): other roles are refused before the
    case is looked up, so they get the same answer in and out of scope."""
    return row(
        url,
        anonymous=anonymous,
        caseworker=(get, post),
        town=reviewers,
        district=reviewers,
        superuser=reviewers,
        out=dict.fromkeys(("town",), reviewers),
    )


def signed_in_page(url, value=OK, **kw) -> Entry:
    """A page any signed-in user opens (what it shows is scoped); a role may be named to
    answer otherwise."""
    roles = {"caseworker": value, "town": value, "district": value, "superuser": value}
    roles.update({role: kw.pop(role) for role in ROLES if role in kw})
    return row(url, **roles, **kw)


def report_row(url, *, caseworker, unit_roles=(OK, NOT_ALLOWED), **kw) -> Entry:
    """A report on units: town reviewers (their town), district officers and administrators."""
    return row(
        url, caseworker=caseworker, town=unit_roles, district=unit_roles, superuser=unit_roles, **kw
    )


GET_ONLY = (OK, NOT_ALLOWED)
POST_ONLY = (NOT_ALLOWED, OK)
TODAY = timezone.localdate().isoformat()
YEAR = timezone.localdate().year
PERIOD = {"year": YEAR, "format": "csv"}
NOTICE = {
    "stage": "recommended",
    "year": YEAR,
    "starts": f"{YEAR}-01-01",
    "ends": f"{YEAR}-01-08",
}

# A superuser's POST on axes' read-only change page saves nothing but the admin's history.
AXES_SAVED = redirect("/admin/axes/accessattempt/", writes=True)
AXES_FAILURE_SAVED = redirect("/admin/axes/accessfailurelog/", writes=True)

# ---------------------------------------------------------------------------------------
# THE POLICY
# ---------------------------------------------------------------------------------------

POLICY: dict[str, Entry] = {
    # --- sign-in, language -------------------------------------------------------------
    "login/": row(Page(), anonymous=OK, **staff(OK), caseworker=OK),
    "logout/": row(
        Page(),
        anonymous=(NOT_ALLOWED, redirect("/login/")),
        caseworker=(NOT_ALLOWED, redirect("/login/")),
        **staff((NOT_ALLOWED, redirect("/login/"))),
    ),
    # For the load balancer: no sign-in, GET only, no personal data (relief.views.health).
    "healthz": row(
        Page(),
        anonymous=(OK, NOT_ALLOWED),
        caseworker=(OK, NOT_ALLOWED),
        **staff((OK, NOT_ALLOWED)),
    ),
    # Everyone changes their own password (an empty POST is the form again, with its errors).
    "account/password/": signed_in_page(Page()),
    "account/password/done/": signed_in_page(Page(), value=GET_ONLY),
    "i18n/setlang/": row(
        Page(), anonymous=redirect("/"), caseworker=redirect("/"), **staff(redirect("/"))
    ),
    # --- caseworkers' pages (everyone signed in has a home page and a scoped case list) ----
    "": signed_in_page(Page("/")),
    # 待办 "mark as seen": a caseworker's own marker (a write); nobody else has one to move.
    "todo/seen/": row(
        Page(),
        caseworker=(NOT_ALLOWED, redirect("/", writes=True)),
        **staff((NOT_ALLOWED, DENIED)),
    ),
    # A POSTed search answers 303 with the list (the term kept behind a session token).
    "cases/": signed_in_page(Page(), value=(OK, see_other("/cases/"))),
    "cases/new/": caseworker_case_page(Page()),
    "cases/<int:pk>/": signed_in_page(Obj("case_draft")),
    "cases/<int:pk>/edit/": caseworker_case_page(Obj("case_draft"), post=BAD),  # incomplete
    "cases/<int:pk>/submit/": caseworker_case_page(
        Obj("case_draft"),
        anonymous=(NOT_ALLOWED, LOGIN),
        get=NOT_ALLOWED,
        # No version posted: refused as a stale page (a message), nothing changes.
        post=redirect(to_parent("submit/")),
        reviewers=(NOT_ALLOWED, DENIED),
    ),
    "cases/<int:pk>/resubmit/": caseworker_case_page(
        Obj("case_draft"),
        anonymous=(NOT_ALLOWED, LOGIN),
        get=NOT_ALLOWED,
        post=redirect(to_parent("resubmit/")),
        reviewers=(NOT_ALLOWED, DENIED),
    ),
    "cases/<int:pk>/withdraw/": caseworker_case_page(
        Obj("case_draft"), post=redirect(to_parent("withdraw/"))
    ),
    "cases/<int:pk>/attachments/": caseworker_case_page(
        Obj("case_draft"),
        anonymous=(NOT_ALLOWED, LOGIN),
        get=NOT_ALLOWED,
        post=BAD,  # no file
        reviewers=(NOT_ALLOWED, DENIED),
    ),
    # The town's home visit (入户核实), on its own page: scope first (404), then the role; an
    # empty POST is the form again with its errors.
    "cases/<int:pk>/visit/": row(
        Obj("case_submitted"),
        caseworker=DENIED,
        town=(OK, BAD),
        district=DENIED,
        superuser=DENIED,
    ),
    # A download (GET only: each one is written to the access log).
    "attachments/<int:pk>/": signed_in_page(Obj("attachment"), value=GET_ONLY),
    # Money is the towns' and the district's business.
    "funds/": signed_in_page(Page(), caseworker=DENIED),
    # One town's 十元捐 of a year per grassroots union: its town (404 for another), the district.
    # Caseworkers are refused before the town is looked up (403 for any town).
    "funds/donations/<str:town>/<int:year>/": signed_in_page(
        TownYear(),
        value=GET_ONLY,
        caseworker=(DENIED, NOT_ALLOWED),
        out={"caseworker": (DENIED, NOT_ALLOWED)},
    ),
    # --- reports -------------------------------------------------------------------------
    "reports/": signed_in_page(Page(), value=GET_ONLY),
    "reports/dashboard/": report_row(Unit(), caseworker=(NOT_FOUND, NOT_ALLOWED)),
    # The printed overdue report: a town its own, the district any unit.
    "reports/overdue/": report_row(Unit(), caseworker=(NOT_FOUND, NOT_ALLOWED)),
    "reports/payouts/": report_row(
        Unit({"year": YEAR}),
        caseworker=(NOT_ALLOWED, NOT_FOUND),
        unit_roles=POST_ONLY,
    ),
    # POST is the form (masked, or full ID numbers with the permission, logged); GET masked.
    "reports/ledger/": report_row(Unit(PERIOD), caseworker=NOT_FOUND, unit_roles=(OK, OK)),
    # The old free-form list (masked ID numbers, any period) is retired (issue 16): whatever
    # it is asked, the units' roles are sent to the recorded notices; caseworkers find nothing.
    "reports/notice/": report_row(
        Page(query={"unit": "XQ", **NOTICE}),
        caseworker=(NOT_FOUND, NOT_ALLOWED),
        unit_roles=(redirect("/admin/relief/publicnotice/"), NOT_ALLOWED),
    ),
    # Looked up by ID number (never put in a URL by this test): without one, 400.
    # A GET goes back to the form on /reports/ (the number is only ever POSTed).
    # The list of one recorded notice: the town's (and the district's); GET only.
    "reports/notices/<int:pk>/": report_row(
        Obj("notice"), caseworker=(NOT_FOUND, NOT_ALLOWED), unit_roles=GET_ONLY
    ),
    "reports/statement/": signed_in_page(Page(), value=(see_other("/reports/#statement"), BAD)),
    "reports/cases/<int:pk>/approval-form/": signed_in_page(Obj("case_draft"), value=GET_ONLY),
    "reports/cases/approval-form/": signed_in_page(
        Lookup(), value=(redirect(lambda _p: ""), NOT_ALLOWED)
    ),
    # Printing from where the work is (issue 14). The statement of a worker of the scope, by
    # key from the worker's page; each printing is in the access log (a GET: not a change).
    "reports/workers/<int:pk>/statement/": signed_in_page(Obj("worker"), value=GET_ONLY),
    # The minutes of a meeting: whoever reads meetings (not caseworkers: 403 before lookup).
    "reports/meetings/<int:pk>/minutes/": signed_in_page(
        Obj("meeting"),
        value=GET_ONLY,
        caseworker=(DENIED, NOT_ALLOWED),
        out={"caseworker": (DENIED, NOT_ALLOWED)},
    ),
    # A batch's payment list: whoever reads batches (the district, administrators), masked;
    # the POST is the bank's copy with full card numbers, for district officers only, logged.
    "reports/batches/<int:pk>/payment-list/": signed_in_page(
        Obj("batch"),
        caseworker=DENIED,
        town=DENIED,
        district=(OK, Expect(200, writes=True)),
        superuser=(OK, DENIED),
        out={"caseworker": DENIED, "town": DENIED},
    ),
    # A background report is its requester's alone: even officers get 404 for another's.
    "reports/jobs/<uuid:pk>/": signed_in_page(
        Job(),
        value=GET_ONLY,
        out=dict.fromkeys(("district", "superuser"), (NOT_FOUND, NOT_ALLOWED)),
    ),
    "reports/jobs/<uuid:pk>/download/": signed_in_page(
        Job(),
        value=GET_ONLY,
        out=dict.fromkeys(("district", "superuser"), (NOT_FOUND, NOT_ALLOWED)),
    ),
    # --- notifications: each user's own; another's does not exist, whatever the role ------
    "notifications/": signed_in_page(Page(), value=GET_ONLY),
    # Opening one marks it read and goes to the case page it names.
    "notifications/<int:pk>/": signed_in_page(
        Notice(),
        value=(redirect(lambda _p: ""), NOT_ALLOWED),
        out=dict.fromkeys(("district", "superuser"), (NOT_FOUND, NOT_ALLOWED)),
    ),
    "notifications/<int:pk>/read/": signed_in_page(
        Notice(),
        value=(NOT_ALLOWED, redirect("/notifications/", writes=True)),
        out=dict.fromkeys(("district", "superuser"), (NOT_ALLOWED, NOT_FOUND)),
    ),
    "notifications/read-all/": signed_in_page(
        Page(), value=(NOT_ALLOWED, redirect("/notifications/", writes=True))
    ),
    # Group robots: set by those who administer the union (their subtree); an empty POST
    # is the form again with its errors.
    **admin_model(
        "notifications/grouprobot",
        "robot",
        changelist=staff(OK),
        add=staff(OK),
        change=staff(OK),
        history=staff(OK),
        delete=staff((OK, redirect("/admin/notifications/grouprobot/", writes=True))),
    ),
    # What was sent where: read-only, scoped by the union it was for.
    **reviewer_readonly_admin("notifications/delivery", "delivery"),
    # --- the admin site ------------------------------------------------------------------
    "admin/": admin_row(Page(), **staff(OK)),
    "admin/login/": row(
        Page(),
        anonymous=OK,
        caseworker=OK,  # "signed in as alice, not allowed here"
        **staff((redirect("/admin/"), OK)),
    ),
    "admin/logout/": row(
        Page(),
        anonymous=redirect("/admin/"),
        caseworker=redirect("/admin/"),
        **staff((NOT_ALLOWED, redirect("/login/"))),
    ),
    "admin/password_change/": admin_row(Page(), **staff(OK)),
    "admin/password_change/done/": admin_row(Page(), **staff(GET_ONLY)),
    "admin/autocomplete/": admin_row(
        Page(query={"app_label": "unions", "model_name": "union", "field_name": "parent"}),
        **staff(GET_ONLY),
    ),
    "admin/jsi18n/": admin_row(Page(), **staff(GET_ONLY)),
    # No model of the project has a public page: nothing to redirect to, in or out of scope.
    "admin/r/<path:content_type_id>/<path:object_id>/": admin_row(
        ViewOnSite(), **staff(NOT_FOUND), out=dict.fromkeys(("district", "superuser"), NOT_FOUND)
    ),
    (
        "admin/^(?P<app_label>axes|django_tasks_database|unions|auth|relief|privacy"
        "|notifications)/$"
    ): admin_row(Page("/admin/relief/"), **staff(OK), id="admin/app_index"),
    "admin/(?P<url>.*)$": admin_row(
        Page("/admin/no-such-page/"), **staff(NOT_FOUND), id="admin/catch_all"
    ),
    # --- people and unions ---------------------------------------------------------------
    **superuser_only_admin(
        "auth/group", "group", change=OK, delete=(OK, redirect("/admin/auth/group/", writes=True))
    ),
    **superuser_only_admin(
        "unions/user",
        "user",
        change=OK,
        delete=OK,
    ),
    "admin/unions/user/<id>/password/": admin_row(Obj("user"), **staff(DENIED, superuser=OK)),
    **admin_model(
        "unions/union",
        "union",
        changelist=staff(OK),
        add=staff(DENIED, superuser=OK),
        change=staff((OK, DENIED), superuser=OK),
        history=staff(OK),
        delete=staff(DENIED, superuser=OK),
    ),
    # --- cases, workers and their trail ----------------------------------------------------
    **admin_model(
        "relief/application",
        "case_submitted",
        changelist=staff(OK),
        add=staff(DENIED),
        # Read-only: every change is a button's form; a home visit has its own page.
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
        **{
            "<path:object_id>/act/<str:action>/": admin_row(
                Obj("case_submitted", {"action": "verify"}),
                **staff(DENIED, town=OK),
            ),
            "import/": admin_row(Page(), **staff(OK)),
            # The confirm finds no file staged for this session: back to the import page.
            "process_import/": admin_row(Page(), **staff((NOT_ALLOWED, redirect(to_import)))),
            "export/": admin_row(Page(), **staff(OK)),
        },
    ),
    # 先行救助: read-only lists; grants, payments and cancellations are case steps (act/).
    **reviewer_readonly_admin("relief/advance", "advance"),
    **reviewer_readonly_admin("relief/advanceshortfall", "shortfall"),
    **reviewer_readonly_admin(
        "relief/worker",
        "worker",
        **{
            "import/": admin_row(Page(), **staff(OK)),
            # The confirm finds no file staged for this session: back to the import page.
            "process_import/": admin_row(Page(), **staff((NOT_ALLOWED, redirect(to_import)))),
            "export/": admin_row(Page(), **staff(DENIED)),  # workers are not exported here
            # Full numbers on request: the permission (district) before anything, POST only,
            # and every reveal is written to the access log.
            "<path:object_id>/reveal/": row(
                Obj("worker"),
                anonymous=ADMIN_LOGIN,
                caseworker=DENIED,
                town=DENIED,
                district=(NOT_ALLOWED, Expect(200, writes=True)),
                superuser=(NOT_ALLOWED, Expect(200, writes=True)),
                out={"caseworker": DENIED, "town": DENIED},
            ),
            # The record is given away by the chain that holds it (a town or the district).
            "<path:object_id>/transfer/": admin_row(
                Obj("worker"),
                **staff(OK, superuser=DENIED),
                out={"superuser": DENIED},
                lists_unions=True,
            ),
        },
    ),
    # The access log: district officers read it; nobody adds, changes or deletes a row.
    **admin_model(
        "privacy/accesslog",
        "access_log",
        changelist=staff(DENIED, district=OK, superuser=OK),
        add=staff(DENIED),
        change=staff(DENIED, district=(OK, DENIED), superuser=(OK, DENIED)),
        history=staff(DENIED, district=OK, superuser=OK),
        delete=staff(DENIED),
    ),
    # Sign-in throttling (django-axes): district officers and administrators read the attempts
    # and unlock a user by deleting theirs; the failure log is read-only for the district.
    **admin_model(
        "axes/accessattempt",
        "access_attempt",
        changelist=staff(DENIED, district=OK, superuser=OK),
        add=staff(DENIED),
        change=staff(DENIED, district=(OK, DENIED), superuser=(OK, AXES_SAVED)),
        history=staff(DENIED, district=OK, superuser=OK),
        delete=staff(
            DENIED,
            # Django goes back to the list only for users who may change rows; else the index.
            district=(OK, redirect("/admin/", writes=True)),
            superuser=(OK, redirect("/admin/axes/accessattempt/", writes=True)),
        ),
    ),
    **admin_model(
        "axes/accessfailurelog",
        "access_failure",
        changelist=staff(DENIED, district=OK, superuser=OK),
        add=staff(DENIED),
        change=staff(DENIED, district=(OK, DENIED), superuser=(OK, AXES_FAILURE_SAVED)),
        history=staff(DENIED, district=OK, superuser=OK),
        delete=staff(
            DENIED,
            district=DENIED,
            superuser=(OK, redirect("/admin/axes/accessfailurelog/", writes=True)),
        ),
    ),
    **reviewer_readonly_admin("relief/auditentry", "audit_entry"),
    **admin_model(
        "relief/reviewmeeting",
        "meeting",
        changelist=staff(OK),
        add=staff(DENIED, town=OK),  # town reviewers hold the meetings
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
    ),
    # Public notices (公示): town reviewers open them; the district reads them (issue 15).
    **admin_model(
        "relief/publicnotice",
        "notice",
        changelist=staff(OK),
        add=staff(DENIED, town=OK),  # an empty POST: the form again, with its errors
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
    ),
    # Objections (异议): recorded and resolved by the town, read by the district; caseworkers
    # never reach the admin. Resolving is the town's (the district and administrators: 403).
    **admin_model(
        "relief/objection",
        "objection",
        changelist=staff(OK),
        add=staff(DENIED, town=OK),
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
        **{
            "<path:object_id>/resolve/": admin_row(
                Obj("objection"), town=OK, district=DENIED, superuser=DENIED
            )
        },
    ),
    # --- configuration: everyone in the admin reads it, administrators change it ---------
    **admin_model(
        "relief/policy",
        "policy",
        changelist=staff(OK),
        add=staff(DENIED, superuser=OK),
        # The caps of a policy applied to cases are read-only; its notice period (公示, issue 15)
        # is required: an empty POST is the form again with that field's error.
        change=staff((OK, DENIED), superuser=OK),
        history=staff(OK),
        delete=staff(DENIED),  # a policy applied to cases is history
    ),
    **admin_model(
        "relief/hardshipcategory",
        "category",
        changelist=staff(OK),
        add=staff(DENIED, superuser=OK),
        change=staff((OK, DENIED), superuser=OK),
        history=staff(OK),
        delete=staff(
            DENIED, superuser=(OK, redirect("/admin/relief/hardshipcategory/", writes=True))
        ),
    ),
    # The national working-day calendar: read by the reviewers, kept by the district.
    **admin_model(
        "relief/workingdaycorrection",
        "working_day",
        changelist=staff(OK),
        add=staff(DENIED, district=OK, superuser=OK),
        change=staff((OK, DENIED), district=OK, superuser=OK),
        history=staff(OK),
        delete=staff(
            DENIED,
            district=(OK, redirect("/admin/relief/workingdaycorrection/", writes=True)),
            superuser=(OK, redirect("/admin/relief/workingdaycorrection/", writes=True)),
        ),
    ),
    **superuser_only_admin(
        "django_tasks_database/dbtaskresult",
        "task_result",
        add=DENIED,
        change=(OK, DENIED),
        delete=DENIED,
    ),
    # --- money -------------------------------------------------------------------------
    **reviewer_readonly_admin("relief/fundaccount", "fund_account"),
    **admin_model(
        "relief/fundincome",
        "fund_income",
        changelist=staff(OK),
        # The services decide which source each role may record; a superuser has no case role.
        add=staff(OK, superuser=DENIED),
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
    ),
    **admin_model(
        "relief/paymentbatch",
        "batch",
        # Batches are the district's: towns do not see them at all.
        changelist=staff(OK, town=DENIED),
        add=staff(OK, town=DENIED, superuser=DENIED),
        change=staff((OK, DENIED), town=DENIED),
        history=staff(OK, town=DENIED),
        delete=staff(DENIED),
        **{
            # Reading the funds check needs only the right to see the batch.
            "<int:pk>/check/": admin_row(Obj("batch"), **staff(OK, town=DENIED)),
            # The bank file (full card numbers) is a POST; a GET goes back to the batch.
            "<int:pk>/export/": officer_action_page(
                Obj("batch"),
                post={},
                district=(redirect(to_parent("export/") + "change/"), Expect(200, writes=True)),
            ),
            # A draft batch cannot be marked paid (a message on the form); it can be cancelled.
            "<int:pk>/paid/": officer_action_page(Obj("batch"), post={"bank_paid_on": TODAY}),
            "<int:pk>/cancel/": officer_action_page(
                Obj("batch"),
                post={"reason": "重复"},
                district=(OK, redirect(to_parent("cancel/") + "change/", writes=True)),
            ),
        },
    ),
    **admin_model(
        "relief/disbursement",
        "payout",
        changelist=staff(OK),
        add=staff(DENIED, district=OK),  # payouts are recorded by the district
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
        **{
            "<int:pk>/reverse/": officer_action_page(
                Obj("payout"),
                post={"reason": "账户冻结，银行退回", "reversed_on": TODAY},
                district=(OK, redirect("/admin/relief/disbursement/", writes=True)),
            )
        },
    ),
    **admin_model(
        "relief/donationcampaign",
        "campaign",
        changelist=staff(OK),
        add=staff(OK, superuser=DENIED),
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
    ),
    **admin_model(
        "relief/donationcollection",
        "collection",
        changelist=staff(OK),
        add=staff(OK, superuser=DENIED),
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
    ),
    **admin_model(
        "relief/hardshipfile",
        "hardship_file",
        changelist=staff(OK),
        add=staff(DENIED, town=OK),  # towns close and reopen files
        change=staff((OK, DENIED)),
        history=staff(OK),
        delete=staff(DENIED),
    ),
}

# Patterns deliberately outside the matrix, with the reason. (Static files are served by
# WhiteNoise's middleware and attachments only through views: no URL pattern serves either.)
EXEMPT: dict[str, str] = {}


# --- the URL patterns of the project -------------------------------------------------------


def all_routes() -> list[str]:
    def walk(resolver, prefix=""):
        for pattern in resolver.url_patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern, route)
            else:
                assert isinstance(pattern, URLPattern)
                yield route

    return list(walk(get_resolver()))


ROUTES = all_routes()


def route_id(route: str) -> str:
    entry = POLICY.get(route)
    if entry is not None and entry.id:
        return entry.id
    return re.sub(r"<(?:\w+:)?(\w+)>", r"\1", route) or "home"


def scopes_of(entry: Entry) -> tuple[str, ...]:
    return ("in", "out") if entry.url.scoped else ("-",)


CELLS = [
    pytest.param(route, role, scope, method, id=f"{route_id(route)}-{role}-{scope}-{method}")
    for route in ROUTES
    if route in POLICY
    for role in ROLES
    for scope in scopes_of(POLICY[route])
    for method in METHODS
]


def test_every_url_has_a_matrix_entry():
    missing = [r for r in ROUTES if r not in POLICY and r not in EXEMPT]
    assert not missing, "\n".join(f"new URL without a matrix entry: {r}" for r in missing)
    stale = [r for r in POLICY if r not in ROUTES]
    assert not stale, "\n".join(f"matrix entry for a URL that does not exist: {r}" for r in stale)
    assert len(set(ROUTES)) == len(ROUTES), "two patterns with the same route"


def test_every_project_admin_answers_404_outside_its_scope():
    """Django's admin answers a missing object with a redirect and a message; ours with 404,
    like every other page (the mixin in relief.admin.base)."""
    ours = [
        (model, model_admin)
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in {"relief", "unions", "reports", "notifications"}
    ]
    assert ours
    plain = [type(a).__name__ for _m, a in ours if not isinstance(a, NotFoundOutsideScope)]
    assert not plain, f"admins without NotFoundOutsideScope: {plain}"


# --- running the cells -----------------------------------------------------------------------

FAST_HASHER = "django.contrib.auth.hashers.MD5PasswordHasher"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at its end; each cell runs in
    a savepoint inside it (the `db` fixture), so what a cell changes is undone at once."""
    media = tmp_path_factory.mktemp("media")
    settings_override = override_settings(MEDIA_ROOT=str(media), PASSWORD_HASHERS=[FAST_HASHER])
    settings_override.enable()
    # Who gets a PDF is this module's question; what is in it is tests/reports'. Rendering
    # (seconds each) is stubbed; the views still gather the document's data in scope.
    stubs = [
        mock.patch.object(pdf, "render_simple", _stub_pdf),
        mock.patch.object(pdf, "render_payout_report", _stub_pdf),
    ]
    for stub in stubs:
        stub.start()
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            built = build_world()
            built.sessions = {}
            for role, username in USERNAMES.items():
                client = Client()
                client.force_login(getattr(built.people, username))
                built.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            settings_override.disable()
            mock.patch.stopall()
            raise
    yield built
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)
    settings_override.disable()
    for stub in stubs:
        stub.stop()


def _stub_pdf(*args, **kwargs):
    args[-1].write(b"%PDF-1.4 stub")


# Every table a request could change; sessions, content types and permissions aside.
UNWATCHED = {"django_session", "django_content_type", "auth_permission", "django_migrations"}


@functools.cache
def watched_tables() -> tuple[str, ...]:
    names = connection.introspection.django_table_names(include_views=False)
    return tuple(sorted(set(names) - UNWATCHED))


def database_state() -> dict:
    """Every row of every watched table, read raw (cheap enough to run around each cell)."""
    state = {}
    with connection.cursor() as cursor:
        for table in watched_tables():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)} ORDER BY 1")
            state[table] = cursor.fetchall()
    return state


def check_location(response, expect: Expect, path: str) -> None:
    location = response["Location"]
    if expect.to == "login":
        assert location.startswith("/login/?next="), location
    elif expect.to == "admin-login":
        assert location.startswith("/admin/login/?next="), location
    elif callable(expect.to):
        target = expect.to(path)
        if target:
            assert location.split("?")[0] == target, location
        # Django's "doesn't exist" redirect is never an acceptable answer.
        assert not location.startswith("/admin/?"), location


def text_of(response) -> str:
    kind = response.get("Content-Type", "")
    if response.streaming or not kind.startswith(("text/", "application/json")):
        return ""
    return response.content.decode(errors="replace")


@pytest.mark.parametrize(("route", "role", "scope", "method"), CELLS)
def test_cell(world, db, route, role, scope, method):
    entry = POLICY[route]
    expect = entry.expect(role, scope, method)
    path, query = entry.url.build(world, route, role, scope)
    client = Client()
    if role != "anonymous":
        client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
    refused = expect.status in REFUSED or expect.to in ("login", "admin-login")
    watch = refused or (method == "POST" and not expect.writes)
    before = database_state() if watch else None
    if method == "GET":
        response = client.get(path, query)
    else:
        body = {**query, **(entry.post or {})}
        response = client.post(path, body)
    where = f"{method} {path} as {role} ({scope})"
    assert response.status_code == expect.status, (
        f"{where}: expected {expect.status}, got {response.status_code}"
        + (f" -> {response['Location']}" if response.has_header("Location") else "")
    )
    if expect.status in (302, 303):
        check_location(response, expect, path)
    if role in NARROW:
        body = text_of(response)
        asked = f"{path} {query} {entry.post}"  # echoing the request back is no leak
        secrets = world.out_secrets
        if entry.lists_unions:
            secrets = [s for s in secrets if s not in world.union_names]
        leaked = [s for s in secrets if s in body and s not in asked]
        assert not leaked, f"{where}: the answer names the other town's {leaked}"
    if watch:
        assert database_state() == before, f"{where}: the database changed"
