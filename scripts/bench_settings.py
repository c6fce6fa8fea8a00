"""The benchmark's Django settings (DJANGO_SETTINGS_MODULE=scripts.bench_settings): the product's
production settings, plus the floor view and the query counter of ``scripts.bench_urls``."""

from hubsite.settings import *  # noqa: F403 (the product's settings, unchanged)
from hubsite.settings import MIDDLEWARE

ROOT_URLCONF = "scripts.bench_urls"
# Outermost, so that the queries of the session and authentication middleware count too.
MIDDLEWARE = ["scripts.bench_urls.count_queries", *MIDDLEWARE]
