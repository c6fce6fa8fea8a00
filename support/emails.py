"""Plain-text emails about support requests: to the requester on each change, and to
``SUPPORT_EMAIL`` when a request is opened. Sent after the change commits."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse

logger = logging.getLogger(__name__)


def _links(request) -> dict[str, str]:
    return {
        "request_url": settings.SITE_URL + reverse("support:detail", args=[request.pk]),
        "admin_url": settings.SITE_URL
        + reverse("admin:support_supportrequest_change", args=[request.pk]),
        "list_url": settings.SITE_URL + reverse("support:index"),
    }


def _send(template: str, request, to: list[str], **extra) -> None:
    context = {"request": request, "SITE_NAME": settings.SITE_NAME, **_links(request), **extra}
    subject, _, body = render_to_string(template, context).strip().partition("\n")
    message = EmailMessage(subject.strip(), body.strip() + "\n", None, to)
    try:
        message.send()
    except (smtplib.SMTPException, OSError):
        # The request itself is stored and shown on the site; the mail is a courtesy.
        logger.exception("Could not send %s for support request #%s", template, request.pk)


def request_opened(request) -> None:
    if request.requester.email:
        _send("support/emails/opened_requester.txt", request, [request.requester.email])
    _send("support/emails/opened_staff.txt", request, [settings.SUPPORT_EMAIL])


def request_replied(request, note: str) -> None:
    """Staff wrote to the requester without deciding."""
    if request.requester.email:
        _send("support/emails/replied.txt", request, [request.requester.email], note=note)


def request_handled(request) -> None:
    """The request was carried out or rejected."""
    if request.requester.email:
        _send(f"support/emails/{request.status}.txt", request, [request.requester.email])
