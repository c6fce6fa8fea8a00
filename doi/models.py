from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone

from repos.models import Repo, Revision


class DoiCounter(models.Model):
    """The last suffix number handed out under a prefix. Numbers only go up: never reused."""

    prefix = models.CharField(max_length=32, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_number}"


class Doi(models.Model):
    """A DOI this hub minted: one per repository revision (a version), plus one concept DOI per
    repository that stands for all its versions.

    ``remote_state`` is only ever what DataCite confirmed. ``pending_action`` is the change still
    to be pushed to DataCite; the registration task works until it is done or fails permanently.
    """

    class Kind(models.TextChoices):
        VERSION = "version", "Version"
        CONCEPT = "concept", "All versions (concept)"

    class RemoteState(models.TextChoices):
        NONE = "none", "Not at DataCite yet"
        FINDABLE = "findable", "Findable"
        REGISTERED = "registered", "Registered (hidden)"

    class Action(models.TextChoices):
        NONE = "", "Nothing to do"
        PUBLISH = "publish", "Publish"
        UPDATE = "update", "Update metadata"
        HIDE = "hide", "Hide"

    doi = models.CharField("DOI", max_length=255)
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=Kind, default=Kind.VERSION)
    repo = models.ForeignKey(Repo, on_delete=models.PROTECT, related_name="dois")
    revision = models.ForeignKey(
        Revision, on_delete=models.SET_NULL, null=True, blank=True, related_name="dois"
    )
    # Kept so the DOI still names its revision after the repository's files are removed.
    revision_oid = models.CharField(max_length=40, blank=True)
    concept = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="versions"
    )
    creators = models.JSONField(default=list, blank=True)
    metadata = models.JSONField(
        default=dict, blank=True, help_text="The DataCite attributes last built for this DOI."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    remote_state = models.CharField(max_length=12, choices=RemoteState, default=RemoteState.NONE)
    pending_action = models.CharField(max_length=8, choices=Action, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    error_is_permanent = models.BooleanField(default=False)
    registered_at = models.DateTimeField(null=True, blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    discarded_at = models.DateTimeField(
        null=True, blank=True, help_text="A DOI that never reached DataCite and was given up."
    )

    class Meta:
        verbose_name = "DOI"
        constraints = [
            models.UniqueConstraint(Upper("doi"), name="doi_unique_ci"),
            models.UniqueConstraint(
                fields=["revision"],
                condition=models.Q(kind="version", discarded_at__isnull=True),
                name="doi_one_live_version_doi_per_revision",
            ),
            models.UniqueConstraint(
                fields=["repo"],
                condition=models.Q(kind="concept", discarded_at__isnull=True),
                name="doi_one_live_concept_doi_per_repo",
            ),
        ]
        indexes = [models.Index(fields=["repo", "-number"])]
        ordering = ["-number"]

    def __str__(self) -> str:
        return self.doi


class Consent(models.Model):
    """What the owner agreed to before a DOI was minted: who, when, which text, what was sent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    repo = models.ForeignKey(Repo, on_delete=models.PROTECT, related_name="doi_consents")
    revision_oid = models.CharField(max_length=40)
    doi = models.OneToOneField(Doi, on_delete=models.PROTECT, related_name="consent")
    text_version = models.CharField(max_length=20)
    text = models.TextField()
    payload = models.JSONField(help_text="The exact DataCite attributes shown and sent.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} for {self.doi} ({self.created_at:%Y-%m-%d})"


class Event(models.Model):
    """The audit trail: every DOI and support event, with actor and time."""

    class Kind(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        MINTED = "minted", "Registered at DataCite"
        UPDATED = "updated", "Metadata updated at DataCite"
        FAILED = "failed", "Registration failed"
        RETRYING = "retrying", "Retry scheduled"
        RETRIED = "retried", "Retry requested"
        HIDDEN = "hidden", "Hidden at DataCite"
        SHOWN = "shown", "Shown again at DataCite"
        DISCARDED = "discarded", "Discarded"
        REQUEST_OPENED = "request_opened", "Support request opened"
        REQUEST_APPROVED = "request_approved", "Support request approved"
        REQUEST_REJECTED = "request_rejected", "Support request rejected"
        REQUEST_CARRIED_OUT = "request_carried_out", "Support request carried out"

    kind = models.CharField(max_length=24, choices=Kind)
    doi = models.ForeignKey(
        Doi, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    repo = models.ForeignKey(
        Repo, on_delete=models.SET_NULL, null=True, blank=True, related_name="doi_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["doi", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"
