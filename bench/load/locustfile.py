"""The load scenarios of issue 12, for locust (run by bench/load/run.py, which starts the
server and checks the database afterwards).

Each simulated user signs in as a demo role through the real sign-in form, loads the real page
(CSRF token, version and idempotency key as a browser gets them) and posts it. The races wait
at a barrier after loading so that every user posts at the same moment, which is what the
findings were about (forms loaded before anybody wrote). One scenario per locust run, chosen by
the user class named on the command line:

    Approve        every user approves one recommended case (admin case page)
    PayoutAdmin    every user pays one approved case in full (admin payout page)
    PayoutCase     the same on the admin case page's payout form
    Partial        every user pays 100 yuan of one 2,000-yuan case (half on each page)
    EmptyFund      every user pays their own case from one account holding five payouts
    FileTwice      pairs of caseworkers of two towns file a case for one new worker at once
    ImportPayouts  small payouts in a loop until the runner says stop (a ledger import runs
                   meanwhile, started by the runner)
    Replay         a partial payout, its response lost, sent again with the same key; then a
                   double click (two simultaneous posts with the key again)

Environment: RELIEF_LOAD_PLAN (the seed's JSON), RELIEF_LOAD_RUN (which run of the plan),
RELIEF_LOAD_LOG (JSON lines: every request and every action's outcome are appended),
RELIEF_LOAD_STOP (a file whose existence stops ImportPayouts). Accounts: the demo's password.

An action's outcome is one of: success (the write was made and the page said so), refused (the
page said why nothing was written: a form error, a message, a page with an explanation),
replayed (the same key again: the page said it was already recorded), bare (a 4xx page with no
explanation: finding 2), error (a 5xx).
"""

import html
import itertools
import json
import os
import re
import time
from pathlib import Path

import gevent
from gevent.event import Event
from gevent.lock import Semaphore
from locust import HttpUser, constant, events, task
from locust.exception import StopUser

PASSWORD = os.environ.get("RELIEF_LOAD_PASSWORD", "demo-2024")
PLAN = json.loads(Path(os.environ["RELIEF_LOAD_PLAN"]).read_text())
RUN = PLAN["runs"][int(os.environ.get("RELIEF_LOAD_RUN", "0"))]
# Open for the whole locust process (closed when it exits); every line is flushed.
LOG = Path(os.environ["RELIEF_LOAD_LOG"]).open("a", encoding="utf-8")  # noqa: SIM115
STOP = os.environ.get("RELIEF_LOAD_STOP", "")
TODAY = time.strftime("%Y-%m-%d")
OFFICER = "nh-officer"


def log(**record):
    LOG.write(json.dumps(record, ensure_ascii=False) + "\n")
    LOG.flush()


@events.request.add_listener
def _log_request(request_type, name, response_time, response, exception, start_time, **_kw):
    status = getattr(response, "status_code", 0) or 0
    log(
        kind="request",
        method=request_type,
        name=name,
        start=start_time,
        ms=round(response_time, 2),
        status=status,
        exception=repr(exception) if exception and not status else None,
    )


# --- reading pages ----------------------------------------------------------------------------

_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_MESSAGE = re.compile(
    r'<ul class="message(?:list|s)"[^>]*>(.*?)</ul>', re.S
)  # admin: messagelist; caseworker pages: messages
_LI = re.compile(r'<li class="([^"]*)"[^>]*>(.*?)</li>', re.S)
_PROBLEMS = [
    re.compile(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', re.S),
    re.compile(r'<p class="errornote"[^>]*>(.*?)</p>', re.S),
    re.compile(r'<(div|section|p)[^>]*role="alert"[^>]*>(.*?)</\1>', re.S),
]


def text(fragment: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAGS.sub(" ", fragment))).strip()


def messages(page: str) -> list[tuple[str, str]]:
    """(level, text) of the messages framework's list (success, error, info, warning)."""
    found = []
    for block in _MESSAGE.findall(page):
        found += [(level, text(body)) for level, body in _LI.findall(block)]
    return found


def problems(page: str) -> list[str]:
    """Form errors and explanations shown on a page that wrote nothing."""
    found = []
    for pattern in _PROBLEMS:
        for match in pattern.findall(page):
            found.append(text(match[-1] if isinstance(match, tuple) else match))
    return [f for f in found if f]


def field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    if not match:
        raise LookupError(f"no field {name} on the page")
    return html.unescape(match.group(1))


def explained_4xx(page: str) -> str:
    """The explanation on a refusal page (403/404/409...), '' when it says nothing useful."""
    found = problems(page)
    if found:
        return found[0]
    match = re.search(r"<h1[^>]*>(.*?)</h1>\s*<p[^>]*>(.*?)</p>", page, re.S)
    return text(match.group(2)) if match else ""


# --- signing in once per account --------------------------------------------------------------

_sessions: dict[str, dict] = {}
_login_locks: dict[str, Semaphore] = {}


def sign_in(user: HttpUser, username: str) -> None:
    """Through the real form, once per account and locust process; the other simulated users
    of that account share the session (like tabs of one browser), which keeps the password
    hashing (deliberately slow) out of the measured load."""
    lock = _login_locks.setdefault(username, Semaphore())
    with lock:
        if username not in _sessions:
            path = "/admin/login/" if username == OFFICER else "/login/"
            page = user.client.get(path, name=path).text
            response = user.client.post(
                path,
                {
                    "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
                    "username": username,
                    "password": PASSWORD,
                    "next": "/",
                },
                name=path,
                allow_redirects=False,
            )
            if response.status_code != 302:
                raise RuntimeError(f"sign-in of {username} answered {response.status_code}")
            _sessions[username] = user.client.cookies.get_dict()
    user.client.cookies.update(_sessions[username])


# --- everyone at once -------------------------------------------------------------------------

_barriers: dict[str, tuple[list[int], Event]] = {}


def barrier(name: str, parties: int, timeout: float = 120) -> None:
    count, event = _barriers.setdefault(name, ([0], Event()))
    count[0] += 1
    if count[0] >= parties:
        event.set()
    event.wait(timeout)


def fresh_connection(user: HttpUser) -> None:
    """Drop the user's idle keep-alive connection before a post that waited at a barrier.

    gunicorn closes a connection idle for 2 s (its keepalive); requests does not retry a POST
    sent on a connection the server closed at that instant, and would report a dropped
    connection that a browser (which retries that case) never shows. A tab that sat idle opens
    a new connection anyway."""
    for adapter in user.client.adapters.values():
        adapter.close()


_finished = itertools.count(1)
_index: dict[str, itertools.count] = {}


class Scenario(HttpUser):
    abstract = True
    wait_time = constant(0)
    account = OFFICER

    def on_start(self):
        self.n = next(_index.setdefault(type(self).__name__, itertools.count()))
        self.users = self.environment.parsed_options.num_users
        sign_in(self, self.account_for(self.n))

    def account_for(self, n: int) -> str:
        return self.account

    @task
    def run_once(self):
        try:
            self.act()
        except Exception as exc:  # a page without its form (an error page): counted, no retry
            log(
                kind="outcome",
                scenario=type(self).__name__,
                status=0,
                user=self.n,
                outcome="error",
                message=repr(exc)[:200],
            )
        finally:
            # Each user acts once; the last to finish ends the run (from a greenlet of its
            # own: quitting kills every user, the calling one included).
            if next(_finished) >= self.users:
                gevent.spawn(self.environment.runner.quit)
        raise StopUser

    def act(self):
        raise NotImplementedError

    # -- one action: post a loaded form and say what the user was shown -----------------------

    def outcome(self, scenario: str, response, *, success: str = "success") -> str:
        status = response.status_code
        record = {"kind": "outcome", "scenario": scenario, "status": status, "user": self.n}
        if status >= 500 or not status:  # not status: the connection dropped, no answer
            record.update(outcome="error", message=text(response.text or "")[:200])
        elif status in (301, 302, 303):
            page = self.client.get(response.headers["Location"], name=f"{scenario}: next").text
            shown = messages(page)
            levels = {level for level, _ in shown}
            message = shown[0][1] if shown else ""
            if "info" in levels:  # only a replay says this ("already recorded")
                record.update(outcome="replayed", message=dict(shown)["info"])
            elif "success" in levels:
                record.update(outcome=success, message=message)
            elif shown:
                record.update(outcome="refused", message=message)
            else:
                # A redirect to a page with nothing said (after a filing: the case page).
                record.update(outcome=success, message="")
        elif status >= 400 and status != 400:
            message = explained_4xx(response.text)
            record.update(outcome="refused" if message else "bare", message=message)
        else:  # 200 or 400: the form again, with what went wrong
            found = problems(response.text)
            record.update(outcome="refused" if found else "bare", message=found[0] if found else "")
        log(**record)
        return record["outcome"]

    def post(self, path: str, data: dict, name: str):
        with self.client.post(
            path, data, name=name, allow_redirects=False, catch_response=True
        ) as response:
            # A refusal the user is told about is the application working: only 5xx and
            # dropped connections (status 0) fail.
            if response.status_code >= 500 or not response.status_code:
                response.failure(f"{response.status_code}: {response.error}")
            else:
                response.success()
            return response

    # -- the forms ---------------------------------------------------------------------------

    def admin_payout(self, scenario, case, amount, *, source="district", year="", sync=True):
        # Opened from the case, the form offers that case's town's accounts ("town:source:year");
        # the scenario names its account rather than taking the form's default (the oldest
        # account that can pay), so a race on a nearly empty account stays on that account.
        page = self.client.get(
            f"/admin/relief/disbursement/add/?application={case}", name=f"{scenario}: form"
        ).text
        year = year or TODAY[:4]
        town = re.search(r'value="(\d+):', page)
        data = {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "idempotency_key": field(page, "idempotency_key"),
            "application": case,
            "amount": amount,
            "paid_on": TODAY,
            "method": "bank",
            "fund": f"{town.group(1)}:{source}:{year}" if town else "",
            "voucher_no": f"LOAD-{scenario}-{self.n}",
        }
        if sync:
            barrier(scenario, self.users)
            fresh_connection(self)
        return data, self.post("/admin/relief/disbursement/add/", data, f"{scenario}: post")

    def case_action(self, scenario, case, action, values, *, sync=True):
        path = f"/admin/relief/application/{case}/act/{action}/"
        page = self.client.get(path, name=f"{scenario}: form").text
        data = {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "version": field(page, "version"),
            **values,
        }
        if 'name="idempotency_key"' in page:
            data["idempotency_key"] = field(page, "idempotency_key")
        if sync:
            barrier(scenario, self.users)
            fresh_connection(self)
        return data, self.post(path, data, f"{scenario}: post")


def case_payout_values(amount) -> dict:
    return {
        "amount": amount,
        "paid_on": TODAY,
        "method": "bank",
        # This year's district account, named: the form's default (the oldest account that can
        # pay) would draw on the nearly empty account another scenario races on.
        "fund": f"district:{TODAY[:4]}",
        "voucher_no": "",
        "comment": "",
    }


class Approve(Scenario):
    def act(self):
        _data, response = self.case_action(
            "approve", RUN["approve"], "approve", {"amount": "3000", "comment": "同意。"}
        )
        self.outcome("approve", response)


class PayoutAdmin(Scenario):
    def act(self):
        _data, response = self.admin_payout("payout_admin", RUN["payout_admin"], "3000")
        self.outcome("payout_admin", response)


class PayoutCase(Scenario):
    def act(self):
        _data, response = self.case_action(
            "payout_case", RUN["payout_case"], "disburse", case_payout_values("3000")
        )
        self.outcome("payout_case", response)


class Partial(Scenario):
    def act(self):
        if self.n % 2:
            _data, response = self.case_action(
                "partial", RUN["partial"], "disburse", case_payout_values("100")
            )
        else:
            _data, response = self.admin_payout("partial", RUN["partial"], "100")
        self.outcome("partial", response)


class EmptyFund(Scenario):
    def act(self):
        plan = RUN["empty_fund"]
        _data, response = self.admin_payout(
            "empty_fund", plan["cases"][self.n], "1000", source="town", year=plan["year"]
        )
        self.outcome("empty_fund", response)


class FileTwice(Scenario):
    """Two caseworkers of different towns file for one new worker: the ID number first, then
    the whole form, posted by both at once."""

    def account_for(self, n):
        return "xq-s01" if n % 2 == 0 else "dl-s01"

    def act(self):
        number = RUN["file_twice"][self.n // 2]
        page = self.client.get("/cases/new/", name="file_twice: form").text
        token = field(page, "csrfmiddlewaretoken")
        page = self.client.post(
            "/cases/new/",
            {"csrfmiddlewaretoken": token, "id_number": number},
            name="file_twice: id number",
        ).text
        category = re.search(r'name="categories" value="(\d+)"', page).group(1)
        data = {
            "csrfmiddlewaretoken": field(page, "csrfmiddlewaretoken"),
            "step": "file",
            "id_number": number,
            "action": "submit",
            "name": f"双报{self.n // 2}",
            "phone": "13912345678",
            "employer": "压测工厂",
            "address": "压测地址 8 号",
            "hukou": "广西玉林",
            "health": "",
            "bank_name": "农商银行",
            "bank_branch": "西樵支行",
            "new_bank_card": "6228480000000000009",
            "notes": "",
            "categories": category,
            "narrative": "本人确诊白血病，需长期化疗。",
            "household_monthly_income": "1500",
            "monthly_medical_expenses": "4000",
            "requested_amount": "6000",
            "attach-kind": "diagnosis",
            "household-TOTAL_FORMS": "0",
            "household-INITIAL_FORMS": "0",
            "household-MIN_NUM_FORMS": "0",
            "household-MAX_NUM_FORMS": "1000",
        }
        barrier("file_twice", self.users)
        fresh_connection(self)
        response = self.post("/cases/new/", data, "file_twice: post")
        self.outcome("file_twice", response)


class ImportPayouts(Scenario):
    """10-yuan payouts from the account a ledger import writes to, one case per user, until
    the runner creates the stop file (or the case is paid)."""

    def act(self):
        plan = RUN["import"]
        case = plan["cases"][self.n % len(plan["cases"])]
        for _ in range(1000):
            if STOP and os.path.exists(STOP):
                return
            _data, response = self.admin_payout("import", case, "10", year=plan["year"], sync=False)
            if self.outcome("import", response) == "refused":
                gevent.sleep(0.2)


class Replay(Scenario):
    """A partial payout whose answer is lost (the user never sees it), sent again with the same
    form (same key), then a double click: two more posts of it at the same moment."""

    def act(self):
        case = RUN["replay"][self.n]
        jar = self.client.cookies.copy()
        if self.n % 2:
            data, first = self.case_action(
                "replay", case, "disburse", case_payout_values("300"), sync=False
            )
            path = f"/admin/relief/application/{case}/act/disburse/"
        else:
            data, first = self.admin_payout("replay", case, "300", sync=False)
            path = "/admin/relief/disbursement/add/"
        # The answer never arrived: neither its page nor its cookies (its success message).
        self.client.cookies = jar
        log(
            kind="outcome",
            scenario="replay: lost",
            status=first.status_code,
            user=self.n,
            outcome="error" if first.status_code >= 500 else "lost",
            message="",
        )
        again = self.post(path, data, "replay: again")
        self.outcome("replay: again", again, success="duplicate")
        barrier("replay", self.users)
        fresh_connection(self)
        # A double click: two posts at once; the browser shows the answer to the second.
        jar = self.client.cookies.copy()
        clicks = [gevent.spawn(self.post, path, data, "replay: double click") for _ in range(2)]
        gevent.joinall(clicks)
        self.client.cookies = jar
        self.client.cookies.update(clicks[-1].value.cookies)
        self.outcome("replay: double click", clicks[-1].value, success="duplicate")
