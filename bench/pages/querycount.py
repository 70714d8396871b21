"""Bench-only middleware: how many SQL queries a request ran, and how long they took.

Enabled only by bench/pages/settings.py (the settings bench/bench_pages.py starts gunicorn
with); never part of the project's own settings. Each response carries `X-Bench-Queries` and
`X-Bench-Query-Ms`, counted over everything the request ran after this middleware (it comes
first): session, user, the view, the template.
"""

import time

from django.db import connections


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        counted = {"n": 0, "s": 0.0}

        def count(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                counted["n"] += 1
                counted["s"] += time.perf_counter() - started

        began = time.perf_counter()
        wrappers = [c.execute_wrapper(count) for c in connections.all()]
        for wrapper in wrappers:
            wrapper.__enter__()
        try:
            response = self.get_response(request)
        finally:
            for wrapper in reversed(wrappers):
                wrapper.__exit__(None, None, None)
        response["X-Bench-Queries"] = str(counted["n"])
        response["X-Bench-Query-Ms"] = f"{counted['s'] * 1000:.1f}"
        # The request's time inside Django (its middleware, view and template), without the
        # HTTP server and the network: what bench_pages.py measures minus this is transport.
        response["X-Bench-Server-Ms"] = f"{(time.perf_counter() - began) * 1000:.1f}"
        return response
