"""Group robots of WeCom (企业微信) and DingTalk (钉钉): checking an address, signing, sending.

Only the vendors' hosts (settings.NOTIFY_WEBHOOK_HOSTS) over settings.NOTIFY_WEBHOOK_SCHEMES
are accepted, when the address is saved and again when a message is sent, and redirects are
not followed: an address typed into the admin cannot make the server call anything else.
"""

import base64
import hashlib
import hmac
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The path of each vendor's robot API.
PATHS = {"wecom": "/cgi-bin/webhook/send", "dingtalk": "/robot/send"}


def check_webhook(kind: str, url: str, secret: str = "") -> None:
    """Raise ValidationError (by field) unless `url` is an address of the vendor's robot API."""
    errors = {}
    hosts = settings.NOTIFY_WEBHOOK_HOSTS.get(kind)
    if hosts is None:
        raise ValidationError({"kind": _("Choose WeCom or DingTalk.")})
    try:
        parts = urllib.parse.urlsplit((url or "").strip())
        netloc = parts.netloc.lower()
    except ValueError:
        parts, netloc = None, ""
    if (
        parts is None
        or parts.scheme not in settings.NOTIFY_WEBHOOK_SCHEMES
        or "@" in netloc
        or netloc not in hosts
        or parts.path != PATHS[kind]
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        errors["webhook_url"] = _(
            "Paste the robot's webhook address as the group settings show it, beginning with "
            "%(prefix)s."
        ) % {"prefix": f"{settings.NOTIFY_WEBHOOK_SCHEMES[0]}://{hosts[0]}{PATHS[kind]}"}
    else:
        query = urllib.parse.parse_qs(parts.query)
        token = "key" if kind == "wecom" else "access_token"
        if not query.get(token, [""])[0]:
            errors["webhook_url"] = _("The address lacks the robot's %(name)s.") % {"name": token}
    if secret and kind != "dingtalk":
        errors["secret"] = _("Only DingTalk robots have a signing secret.")
    elif secret and (not secret.startswith("SEC") or any(c.isspace() for c in secret)):
        errors["secret"] = _("A DingTalk signing secret begins with SEC.")
    if errors:
        raise ValidationError(errors)


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(key=secret, "timestamp\\nsecret"))."""
    message = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    timestamp_ms = timestamp_ms if timestamp_ms is not None else int(time.time() * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(secret, timestamp_ms))
    return f"{url}&timestamp={timestamp_ms}&sign={sign}"


def payload(kind: str, subject: str, body: str) -> dict:
    """A markdown message: WeCom's and DingTalk's formats."""
    if kind == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": body}}
    return {"msgtype": "markdown", "markdown": {"title": subject, "text": body}}


class RobotError(Exception):
    pass


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise RobotError(_("The robot's address answered with a redirect: not followed."))


_opener = urllib.request.build_opener(_NoRedirect)


def send(robot, subject: str, body: str) -> None:
    """POST the message to the robot; raise RobotError unless it answers errcode 0."""
    check_webhook(robot.kind, robot.webhook_url, robot.secret)
    url = robot.webhook_url.strip()
    if robot.kind == "dingtalk" and robot.secret:
        url = signed_url(url, robot.secret)
    data = json.dumps(payload(robot.kind, subject, body), ensure_ascii=False).encode()
    # The scheme and host were checked just above (check_webhook): S310 does not apply.
    request = urllib.request.Request(  # noqa: S310
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with _opener.open(request, timeout=settings.NOTIFY_WEBHOOK_TIMEOUT) as response:
            raw = response.read(65536)
    except urllib.error.HTTPError as exc:
        raise RobotError(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise RobotError(str(getattr(exc, "reason", exc))) from None
    try:
        answer = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise RobotError(_("The robot did not answer in JSON.")) from None
    if not isinstance(answer, dict) or answer.get("errcode") != 0:
        errmsg = answer.get("errmsg", "") if isinstance(answer, dict) else ""
        code = answer.get("errcode") if isinstance(answer, dict) else None
        raise RobotError(f"errcode {code}: {errmsg}"[:300])
