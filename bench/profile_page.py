"""Profile one page in-process on the scale data set: where its time goes besides SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relief_scale \\
        .venv/bin/python bench/profile_page.py /admin/relief/application/ --role reviewer

Signs in (force_login, no password) as the generator's town reviewer of the largest town,
the district officer or the caseworker of the largest union, requests the page a few times to
warm up, times ten requests, then runs ten more under cProfile and prints the functions by
cumulative and by own time. Runs with DEBUG on (no collected static files needed; Django then
also logs each query, which adds a little to the SQL's share). Read-only.
"""

import argparse
import cProfile
import gc
import os
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROLES = {"reviewer": "town_reviewer", "officer": "district_officer", "caseworker": "caseworker"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--role", choices=sorted(ROLES), default="reviewer")
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--callers", metavar="PATTERN", help="also print who calls the functions matching this"
    )
    args = parser.parse_args()
    os.environ["DEBUG"] = "1"
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from unions.models import User

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.id, a.union_id FROM relief_application a "
            "JOIN unions_union u ON u.id = a.union_id JOIN unions_union t ON t.id = u.parent_id "
            "GROUP BY 1, 2 ORDER BY COUNT(*) OVER (PARTITION BY t.id) DESC, COUNT(*) DESC "
            "LIMIT 1"
        )
        town, union = cursor.fetchone()
    role = ROLES[args.role]
    users = User.objects.filter(role=role).order_by("id")
    if role == "town_reviewer":
        users = users.filter(union_id=town)
    elif role == "caseworker":
        users = users.filter(union_id=union)
    client = Client()
    client.force_login(users.first())
    # As config/wsgi.py does in a worker: what is loaded at start-up is left out of the
    # cyclic collector's walks, or its pauses show up as the own time of whatever allocates.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018
    gc.freeze()
    for _ in range(3):
        response = client.get(args.url)
        if response.status_code != 200:
            raise SystemExit(f"{args.url} answered {response.status_code}")
    times = []
    for _ in range(args.requests):
        started = time.perf_counter()
        client.get(args.url)
        times.append((time.perf_counter() - started) * 1000)
    print("ms per request:", ", ".join(f"{t:.0f}" for t in sorted(times)))
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(args.requests):
        client.get(args.url)
    profile.disable()
    stats = pstats.Stats(profile)
    stats.sort_stats("cumulative").print_stats(args.top)
    stats.sort_stats("tottime").print_stats(args.top)
    if args.callers:
        stats.print_callers(args.callers)


if __name__ == "__main__":
    main()
