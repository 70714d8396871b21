import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What is loaded by now (Django, the apps, the admin, the URLconf and the views it imports)
# lives as long as the worker: frozen, the cyclic collector stops walking those 140,000
# objects at every full collection, which cost an admin list 7.6 ms of GC per request on
# average (1.9 ms frozen; bench/RESULTS.md). Objects made later are collected as before.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018 - imports every view now, not on the first request
gc.freeze()
