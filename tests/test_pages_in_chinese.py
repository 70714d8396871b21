"""Issue 13, item 15: every page, as every role, rendered in zh-hans, holds no English words
outside user data.

The pages are the URL matrix's (tests/security/test_url_matrix.py): every route with a GET that
answers 200 for the role, in its world (tests/security/world.py). What counts as English: a
run of two or more Latin letters in the text a user reads (element text, and the title,
placeholder, aria-label, alt and button value attributes), after removing

- user data: every word that occurs in the world's own rows (names, usernames, references such
  as XQ-2024-0001, union codes, voucher and document numbers, file names), and
- LATIN: words that are legitimately Latin in Chinese text (file formats, units, brands).
"""

import functools
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.security.test_url_matrix import (  # noqa: F401  (world is a fixture)
    OK,
    POLICY,
    ROLES,
    ROUTES,
    USERNAMES,
    route_id,
    watched_tables,
    world,
)

# Latin that belongs in a Chinese interface.
LATIN = {
    "PDF",
    "CSV",
    "XLSX",
    "xlsx",
    "ods",
    "ODS",
    "csv",
    "pdf",
    "HEIC",
    "JPEG",
    "JPG",
    "PNG",
    "WebP",
    "GBK",
    "UTF",
    "ID",
    "MB",
    "KB",
    "Excel",
    "IP",
    "HTTP",
    "GET",
    "POST",
    "SHA",
    "SEC",  # the start of a DingTalk robot's signing secret, as DingTalk shows it
    "LDAP",  # in Django's own Chinese help text of the password form
    "Control",  # keys: 按住 Control 键或 Mac 上的 Command 键
    "Mac",
    "Command",
    "English",  # the language switch names each language in itself
}
WORD = re.compile(r"[A-Za-z]{2,}")
# Masked data (Fa****, 44068********1234): what is left of user data.
MASKED = re.compile(r"\w*\*{2,}\w*")
# Identifiers the system makes (a background task's UUID): their hex letters are not words.
UUID = re.compile(r"\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b", re.IGNORECASE)
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class VisibleText(HTMLParser):
    """The text a user reads: element text outside script and style, and the attributes above
    (and the value of buttons)."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self.hidden += 1
        attrs = dict(attrs)
        for name in READ_ATTRIBUTES:
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button", "reset"):
            self.parts.append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


@functools.cache
def _user_words() -> frozenset[str]:
    words = set()
    with connection.cursor() as cursor:
        for table in watched_tables():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            for row in cursor.fetchall():
                for value in row:
                    if value is not None and not isinstance(value, (int, float, bytes)):
                        words.update(WORD.findall(str(value)))  # text, and uuids
    return frozenset(words)


def english_words(html: str) -> list[str]:
    """The English words of the page, each with the line of text it stands in."""
    allowed = LATIN | _user_words()
    found = set()
    for line in visible_text(html).splitlines():
        line = UUID.sub(" ", MASKED.sub(" ", line))
        words = [w for w in WORD.findall(line) if w not in allowed]
        if words:
            found.add(f"{' '.join(words)} <- {line.strip()[:80]}")
    return sorted(found)


def pages():
    for route in ROUTES:
        entry = POLICY.get(route)
        if entry is None:
            continue
        roles = [r for r in ROLES if entry.expect(r, "in", "GET") == OK]
        if roles:
            yield pytest.param(route, roles, id=route_id(route))


@pytest.mark.parametrize(("route", "roles"), list(pages()))
def test_the_page_is_all_chinese(world, db, route, roles):  # noqa: F811
    entry = POLICY[route]
    scope = "in" if entry.url.scoped else "-"
    found = {}
    for role in roles:
        path, query = entry.url.build(world, route, role, scope)
        client = Client()
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        if role != "anonymous":
            client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[role]
        response = client.get(path, query)
        assert response.status_code == 200, (path, role)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        words = english_words(response.content.decode())
        if words:
            found[role] = words
    assert not found, f"English on {route}: {found}"
