"""A real HTTP receiver on loopback standing in for the WeCom and DingTalk robot APIs, and the
settings that let the robots reach it."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from notifications.models import GroupRobot


class Receiver:
    def __init__(self):
        self.requests = []  # dicts: path, query, headers, json
        self.answers = []  # (status, body) to give, in order; then 200 errcode 0
        self.lock = threading.Lock()

    @property
    def netloc(self):
        return f"127.0.0.1:{self.server.server_address[1]}"

    def url(self, kind, token):
        path = "/cgi-bin/webhook/send?key=" if kind == "wecom" else "/robot/send?access_token="
        return f"http://{self.netloc}{path}{token}"

    def bodies(self):
        return [r["json"] for r in self.requests]

    def tokens(self):
        return sorted(
            r["query"].get("key", r["query"].get("access_token", [""]))[0] for r in self.requests
        )


def _handler(receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            raw = self.rfile.read(length)
            parts = urlsplit(self.path)
            with receiver.lock:
                receiver.requests.append(
                    {
                        "path": parts.path,
                        "query": parse_qs(parts.query),
                        "headers": dict(self.headers),
                        "json": json.loads(raw.decode("utf-8")),
                    }
                )
                status, body = (
                    receiver.answers.pop(0)
                    if receiver.answers
                    else (200, {"errcode": 0, "errmsg": "ok"})
                )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def receiver(settings):
    rec = Receiver()
    rec.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    thread = threading.Thread(target=rec.server.serve_forever, daemon=True)
    thread.start()
    settings.NOTIFY_WEBHOOK_SCHEMES = ["http"]
    settings.NOTIFY_WEBHOOK_HOSTS = {"wecom": [rec.netloc], "dingtalk": [rec.netloc]}
    settings.NOTIFY_WEBHOOK_TIMEOUT = 5
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def site_url(settings):
    settings.SITE_URL = "https://relief.example.org"
    return settings.SITE_URL


def robot(union, receiver, kind="wecom", secret="", token=None):
    return GroupRobot.objects.create(
        union=union,
        kind=kind,
        webhook_url=receiver.url(kind, token or union.code),
        secret=secret,
    )
