"""Production settings for ``collectstatic`` in the tests that start gunicorn: hashed names and
the manifest the production storage reads, without compressing every file as well (half a
minute of a busy machine's time that those tests never look at)."""

from hubsite.settings import *  # noqa: F403

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
}
