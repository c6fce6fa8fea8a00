import os

import django
from django.core.exceptions import BadRequest
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpResponse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubsite.settings")
django.setup(set_prefix=False)


class HubASGIHandler(ASGIHandler):
    def create_request(self, scope, body_file):
        """Django parses Content-Type while it builds the request, before any middleware runs,
        and its BadRequest for one over 10,000 characters would end as a server error."""
        try:
            return super().create_request(scope, body_file)
        except BadRequest:
            message = "The Content-Type header is too long to read: send a shorter one.\n"
            return None, HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


application = HubASGIHandler()
