"""What API requests bring and answers point to: a JSON body, and the site's own addresses."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat

from hubapi.errors import ApiError


def payload(request: HttpRequest) -> dict:
    """The request's JSON object; 400 saying so when the body is not one."""
    try:
        data = json.loads(request.body or b"{}")
    except RequestDataTooBig:
        limit = filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        raise ApiError(
            f"The request body is over {limit}, more than this call takes.", status=413
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError("The request body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.")
    return data


def site_url(path: str) -> str:
    """``path`` on this site, absolute (``SITE_URL``): what the client is told to open."""
    return f"{settings.SITE_URL.rstrip('/')}{path}"
