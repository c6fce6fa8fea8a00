from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse

# Placeholders while the views are being written.


def home(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def listing(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def create(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def repo_page(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def commits(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def upload(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def edit_card(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def blob(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def settings_page(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def rename(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def visibility(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


def delete(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404
