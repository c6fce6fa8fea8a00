"""Who a log-in attempt comes from, and the log-in page shown while django-axes refuses log-ins
(see the AXES_* settings): the form again, saying when the person may try again."""

from __future__ import annotations

import ipaddress
from datetime import datetime

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from hubsite.quotas import try_again


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from. Behind TRUSTED_PROXY_COUNT reverse proxies that each
    append to X-Forwarded-For, it is the entry the outermost proxy added (counted from the
    right: entries further left were sent by the client and can be forged)."""
    if settings.TRUSTED_PROXY_COUNT:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(forwarded) >= settings.TRUSTED_PROXY_COUNT:
            candidate = forwarded[-settings.TRUSTED_PROXY_COUNT].strip()
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR")


def username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The username tried, in the case log-in ignores (so "Alice" and "alice" count as one)."""
    source = credentials or getattr(request, "POST", {})
    value = (source.get("username") or "").strip().lower()
    return value or None


def locked_until(request: HttpRequest, credentials: dict | None) -> datetime:
    """When log-ins from this address and for this username are allowed again, at the latest."""
    attempts = AccessAttempt.objects.filter(
        Q(ip_address=request.axes_ip_address) | Q(username=username(request, credentials))
    )
    latest = attempts.aggregate(latest=Max("attempt_time"))["latest"] or timezone.now()
    return latest + settings.AXES_COOLOFF_TIME


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """The log-in page with the reason instead of the form's error (AXES_LOCKOUT_CALLABLE)."""
    message = (
        f"Too many failed log-ins from your network or for this account, so log-in is paused "
        f"for a while to keep accounts safe. You can try again "
        f"{try_again(locked_until(request, credentials))}."
    )
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    context = {"form": form, "lockout": message, "next": request.POST.get("next", "")}
    return render(request, "registration/login.html", context, status=429)
