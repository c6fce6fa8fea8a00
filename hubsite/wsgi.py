import os

from django.core.wsgi import get_wsgi_application
from django.utils.http import MAX_HEADER_LENGTH

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubsite.settings")
_django = get_wsgi_application()


def application(environ: dict, start_response):
    """Django parses Content-Type while it builds the request, before any middleware runs, and
    refuses one over MAX_HEADER_LENGTH with an exception nothing turns into a response (the WSGI
    server then answers 500). Refuse it here, plainly."""
    if len(environ.get("CONTENT_TYPE", "")) > MAX_HEADER_LENGTH:
        start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"The Content-Type header is too long to read: send a shorter one.\n"]
    return _django(environ, start_response)
