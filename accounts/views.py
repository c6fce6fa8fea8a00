from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

# Placeholders while the views are being written.


def join(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def profile(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def password(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def organization_new(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def organization_settings(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def namespace(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404
