"""The production settings (config.settings, DEBUG off) plus the bench's query counter."""

from config.settings import *  # noqa: F403
from config.settings import MIDDLEWARE

MIDDLEWARE = ["bench.pages.querycount.QueryCountMiddleware", *MIDDLEWARE]
