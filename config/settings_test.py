"""Settings for the test suite: the project's settings as development runs them (DEBUG=1).

DEBUG is off by default (config/settings.py); the tests run with the development defaults
(SQLite, a development secret, no HTTPS redirect) and pytest-django turns DEBUG itself off
while tests run. Tests of the production defaults start config.settings in a subprocess
(tests/test_settings.py).
"""

import os

os.environ.setdefault("DEBUG", "1")

from config.settings import *  # noqa: F403

# A second alias standing in for a streaming replica (config/replica.py): the test database
# itself, mirrored. Reports read from it only where a test turns REPORTS_READ_FROM_REPLICA on
# (tests/test_replica.py), and such a test must name both databases.
DATABASES["replica"] = {**DATABASES["default"], "TEST": {"MIRROR": "default"}}  # noqa: F405
REPORTS_READ_FROM_REPLICA = False
