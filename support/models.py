from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from accounts.models import Namespace
from doi import history
from doi.models import Doi, Event
from hubsite.quotas import DAY, full_until, try_again
from repos.models import Repo, lock_override
from support import emails

# Shown on the tombstone when staff give no other public reason for a deletion.
DEFAULT_PUBLIC_REASON = "Removed at the request of its owner."


class SupportRequestError(Exception):
    """A support request cannot be carried out as asked; the message says why, for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AlreadyOpen(Exception):
    """There is already an open request for this repository and action."""

    def __init__(self, existing: SupportRequest) -> None:
        super().__init__(f"Support request #{existing.pk} is already open.")
        self.existing = existing


class SupportRequestQuerySet(models.QuerySet["SupportRequest"]):
    def open(self) -> SupportRequestQuerySet:
        return self.filter(status=SupportRequest.Status.OPEN)

    def of(self, user) -> SupportRequestQuerySet:
        """The requests ``user`` filed: only they (and staff, in the admin) see them."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(requester=user)


class SupportRequest(models.Model):
    """An owner's request that staff delete, rename/move or change the visibility of a
    repository its DOIs lock. Staff carry it out through ``lock_override``."""

    class Action(models.TextChoices):
        DELETE = "delete", "Delete the repository"
        RENAME = "rename", "Rename or move"
        VISIBILITY = "visibility", "Change visibility"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CARRIED_OUT = "carried_out", "Approved and carried out"
        REJECTED = "rejected", "Rejected"

    class Visibility(models.TextChoices):
        PRIVATE = "private", "Private"
        PUBLIC = "public", "Public"

    repo = models.ForeignKey(Repo, on_delete=models.PROTECT, related_name="support_requests")
    # The name when the request was filed: a carried-out move changes the repository's.
    repo_name = models.CharField("repository name", max_length=200)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="support_requests"
    )
    action = models.CharField(max_length=12, choices=Action)
    new_name = models.CharField(max_length=96, blank=True)
    new_namespace = models.ForeignKey(
        Namespace,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="new owner",
    )
    target_visibility = models.CharField(max_length=8, choices=Visibility, blank=True)
    reason = models.TextField(help_text="Why the requester asks for it; seen by staff.")
    status = models.CharField(max_length=12, choices=Status, default=Status.OPEN)
    staff_note = models.TextField(blank=True, help_text="Shown to the requester.")
    public_reason = models.TextField(
        blank=True, help_text="For a deletion: shown publicly on the tombstone page of its DOIs."
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    carried_out_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = SupportRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("carry_out_supportrequest", "Can approve and carry out a support request"),
            ("reject_supportrequest", "Can reject a support request"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["repo", "action"],
                condition=Q(status="open"),
                name="support_one_open_request_per_repo_and_action",
            ),
            models.CheckConstraint(
                condition=~Q(action="rename") | (~Q(new_name="") & Q(new_namespace__isnull=False)),
                name="support_rename_has_a_target",
            ),
            models.CheckConstraint(
                condition=~Q(action="visibility") | ~Q(target_visibility=""),
                name="support_visibility_has_a_target",
            ),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary}"

    def get_absolute_url(self) -> str:
        return reverse("support:detail", args=[self.pk])

    # Display ------------------------------------------------------------------------------------

    @property
    def phrase(self) -> str:
        """What is asked, in a few words: "move alice/bert to wonderland/bert"."""
        name = self.repo_name or self.repo.full_name
        if self.action == self.Action.DELETE:
            return f"delete {name}"
        if self.action == self.Action.RENAME:
            return f"rename or move {name} to {self.new_namespace.name}/{self.new_name}"
        return f"make {name} {self.target_visibility}"

    @property
    def summary(self) -> str:
        return self.phrase[0].upper() + self.phrase[1:]

    @property
    def doi_effect(self) -> str:
        return doi_effect(self.action, self.target_visibility)

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    def approval_steps(self) -> list[str]:
        """Exactly what carrying the request out would do now, step by step."""
        repo = self.repo
        dois = ", ".join(d.doi for d in self.dois()) or "none"
        if self.action == self.Action.RENAME:
            new = f"{self.new_namespace.name}/{self.new_name}"
            return [
                f"{repo.full_name} moves to {new}; its old addresses redirect to the new one.",
                f"DOIs whose metadata at DataCite is updated with the new name: {dois}.",
            ]
        if self.action == self.Action.VISIBILITY:
            private = self.target_visibility == self.Visibility.PRIVATE
            change = "hidden at DataCite (they keep resolving)" if private else "findable again"
            return [
                f"{repo.full_name} becomes {self.target_visibility}.",
                f"DOIs made {change}: {dois}.",
            ]
        return [
            f"{repo.full_name}'s files and {repo.revisions.count()} revision(s) are deleted; "
            "the name stays reserved.",
            f"DOIs hidden at DataCite (they keep resolving to a tombstone): {dois}.",
            f"The tombstone will say: “{DEFAULT_PUBLIC_REASON}” unless you write another "
            "public reason when approving.",
        ]

    def dois(self):
        """The repository's DOIs that this request concerns (every one that is not discarded)."""
        return Doi.objects.live().filter(repo_id=self.repo_id).order_by("number")

    def history(self, *, with_dois: bool = True) -> list[RequestEvent | Event]:
        """The repository's audit trail since this request was opened, oldest first: this
        request's own events, and (``with_dois``) the DOI events that followed (other
        requests' are theirs)."""
        own = self.events.select_related("actor").order_by("created_at", "pk")
        if not with_dois:
            return list(own)
        dois = (
            Event.objects.filter(repo_id=self.repo_id, created_at__gte=self.created_at)
            .select_related("doi", "actor")
            .order_by("created_at", "pk")
        )
        return history.in_time_order(own, dois)

    # Changes ------------------------------------------------------------------------------------

    @classmethod
    def file(
        cls,
        *,
        repo: Repo,
        requester,
        action: str,
        reason: str,
        new_name: str = "",
        new_namespace: Namespace | None = None,
        target_visibility: str = "",
    ) -> SupportRequest:
        """File a request. Raises PermissionDenied when ``requester`` does not administer the
        repository (or the new owner), ValidationError for a request that makes no sense or
        past the requester's daily quota, and AlreadyOpen when the same action is already asked
        for this repository."""
        if not repo.can_admin(requester) or repo.is_removed:
            raise PermissionDenied("Only the repository's administrators can ask for this.")
        request = cls(
            repo=repo,
            repo_name=repo.full_name,
            requester=requester,
            action=action,
            reason=reason.strip(),
            new_name=new_name.strip() if action == cls.Action.RENAME else "",
            new_namespace=new_namespace if action == cls.Action.RENAME else None,
            target_visibility=target_visibility if action == cls.Action.VISIBILITY else "",
        )
        request._validate_request()
        _check_quota(requester)
        if (
            action == cls.Action.RENAME
            and not Namespace.objects.administered_by(requester)
            .filter(pk=new_namespace.pk)
            .exists()
        ):
            raise PermissionDenied("You can only move a repository to an owner you administer.")
        try:
            with transaction.atomic():
                request.save()
                request._record(RequestEvent.Kind.OPENED, requester)
        except IntegrityError:
            existing = cls.objects.open().filter(repo=repo, action=action).first()
            if existing is None:
                raise
            raise AlreadyOpen(existing) from None
        transaction.on_commit(lambda: emails.request_opened(request))
        return request

    def _validate_request(self) -> None:
        if self.action not in self.Action.values:
            raise ValidationError({"action": "Choose what staff should do."})
        if not self.reason:
            raise ValidationError({"reason": "Say why: staff read it before acting."})
        repo = self.repo
        if not repo.is_locked:
            raise ValidationError(
                {"__all__": "This repository is not locked: change it yourself in its settings."}
            )
        if self.action == self.Action.RENAME:
            if not self.new_name or self.new_namespace is None:
                raise ValidationError({"new_name": "Give the new name and owner."})
            if self.new_namespace.pk == repo.namespace_id and self.new_name == repo.name:
                raise ValidationError(
                    {"new_name": "That is the repository's current name and owner."}
                )
            # The name rules and "taken" check of the repository itself; staff check again.
            candidate = Repo(namespace=self.new_namespace, name=self.new_name, type=repo.type)
            candidate.pk = repo.pk
            try:
                candidate.full_clean(
                    exclude=["head"], validate_unique=False, validate_constraints=False
                )
            except ValidationError as exc:
                messages = exc.message_dict
                raise ValidationError(
                    {"new_name": messages.get("name") or next(iter(messages.values()))}
                ) from None
        if self.action == self.Action.VISIBILITY:
            if self.target_visibility not in self.Visibility.values:
                raise ValidationError({"target_visibility": "Choose private or public."})
            if (self.target_visibility == self.Visibility.PRIVATE) == repo.private:
                raise ValidationError(
                    {"target_visibility": f"The repository is already {self.target_visibility}."}
                )

    def reject(self, staff, note: str) -> bool:
        """Close the request without doing it. The note, shown to the requester, is required.
        Returns False when the request was already closed (nothing changes)."""
        note = note.strip()
        if not note:
            raise ValidationError({"staff_note": "Say why the request is rejected."})
        _check_staff(staff, "support.reject_supportrequest", "reject support requests")
        with transaction.atomic():
            request = SupportRequest.objects.select_for_update().get(pk=self.pk)
            if not request.is_open:
                self.refresh_from_db()
                return False
            now = timezone.now()
            request.status = self.Status.REJECTED
            request.staff_note = note
            request.handled_by, request.handled_at, request.updated_at = staff, now, now
            request.save()
            request._record(RequestEvent.Kind.REJECTED, staff)
            transaction.on_commit(lambda: emails.request_handled(request))
        self.refresh_from_db()
        return True

    def reply(self, staff, note: str) -> None:
        """Write to the requester without deciding: the note goes into the request's history
        (shown on their request page) and is e-mailed to them. Nothing else changes."""
        note = note.strip()
        if not note:
            raise ValidationError({"note": "Write the reply."})
        _check_staff(staff, "support.reject_supportrequest", "reply to support requests")
        with transaction.atomic():
            self.events.create(kind=RequestEvent.Kind.REPLIED, actor=staff, message=note)
            transaction.on_commit(lambda: emails.request_replied(self, note))

    def carry_out(self, staff, *, public_reason: str = "", note: str = "") -> bool:
        """Approve the request and do it, past the repository's DOI lock, in one transaction.

        Idempotent: a request already carried out (a second click, another staff member) is
        left alone and False returned. Raises SupportRequestError, with nothing changed and
        the request still open, when it cannot be done (e.g. the new name is taken).
        The DOIs' DataCite side effects are queued through the same retrying task as minting.
        """
        _check_staff(staff, "support.carry_out_supportrequest", "carry out support requests")
        done = self._carry_out(staff, public_reason=public_reason, note=note)
        self.refresh_from_db()
        return done

    def _carry_out(self, staff, *, public_reason: str, note: str) -> bool:
        with lock_override(actor=staff, reason=f"Support request #{self.pk}"):
            request = SupportRequest.objects.select_for_update().get(pk=self.pk)
            if request.status == self.Status.CARRIED_OUT:
                return False
            if request.status == self.Status.REJECTED:
                raise SupportRequestError(
                    f"Support request #{request.pk} was rejected; it cannot be carried out."
                )
            if public_reason.strip():
                request.public_reason = public_reason.strip()
            elif request.action == self.Action.DELETE and not request.public_reason:
                request.public_reason = DEFAULT_PUBLIC_REASON
            if note.strip():
                request.staff_note = note.strip()
            request._record(RequestEvent.Kind.APPROVED, staff)
            outcome = request._do(staff)
            now = timezone.now()
            request.status = self.Status.CARRIED_OUT
            request.handled_by, request.handled_at = staff, now
            request.carried_out_at = request.updated_at = now
            request.save()
            request._record(RequestEvent.Kind.CARRIED_OUT, staff, outcome)
            transaction.on_commit(lambda: emails.request_handled(request))
        return True

    def _do(self, staff) -> str:
        """The local change and the DOIs' queued DataCite side effects; what happened, in words."""
        # no_key: a DOI push holds a DOI row and inserts Events that reference this repository
        # (a KEY SHARE lock on it); a full FOR UPDATE here would deadlock with it.
        repo = Repo.objects.select_for_update(no_key=True).get(pk=self.repo_id)
        if repo.is_removed:
            raise SupportRequestError(f"{repo.full_name} was removed already.")
        dois = list(Doi.objects.live().filter(repo=repo).order_by("number"))
        count = f"{len(dois)} DOI{'s' if len(dois) != 1 else ''}"
        if self.action == self.Action.RENAME:
            old_name = repo.full_name
            try:
                repo.move(namespace=self.new_namespace, name=self.new_name)
            except ValidationError as exc:
                raise SupportRequestError(
                    f"{old_name} was not moved: {' '.join(_messages(exc))} "
                    "Nothing was changed; the request stays open."
                ) from None
            except IntegrityError:
                raise SupportRequestError(
                    f"{old_name} was not moved: {self.new_namespace.name}/{self.new_name} is "
                    "taken. Nothing was changed; the request stays open."
                ) from None
            for doi in dois:
                doi.resend_metadata(actor=staff)
            return (
                f"Moved {old_name} to {repo.full_name}; {count} queued for a metadata update "
                "at DataCite."
            )
        if self.action == self.Action.VISIBILITY:
            private = self.target_visibility == self.Visibility.PRIVATE
            repo.set_private(private)
            for doi in dois:
                if private:
                    doi.hide()
                else:
                    doi.show()
            change = "hidden" if private else "made findable again"
            return f"Made {repo.full_name} {self.target_visibility}; {count} queued to be {change}."
        repo.remove(reason=self.public_reason)
        for doi in dois:
            doi.hide()
        return f"Removed {repo.full_name}, keeping a tombstone; {count} queued to be hidden."

    def _record(self, kind: str, actor, message: str = "") -> None:
        """An event in this request's history, naming it (DOI pages show it too)."""
        self.events.create(
            kind=kind, actor=actor, message=f"Request #{self.pk}: {message or self.summary + '.'}"
        )


class RequestEventQuerySet(models.QuerySet["RequestEvent"]):
    def for_doi_page(self, repo: Repo, *, can_view_repo: bool) -> RequestEventQuerySet:
        """The repository's request events a DOI page shows. Requests name what the owner
        asked for (a new name, a new owner), so a stranger to a repository they cannot see
        learns only what was carried out on a removed one: why it is gone."""
        events = (
            self.filter(request__repo=repo).select_related("actor").order_by("created_at", "pk")
        )
        if can_view_repo:
            return events
        if repo.is_removed:
            return events.filter(kind=RequestEvent.Kind.CARRIED_OUT)
        return events.none()


class RequestEvent(models.Model):
    """Something that happened to a support request, with actor and time: its part of the
    repository's audit trail, next to the DOI events."""

    class Kind(models.TextChoices):
        OPENED = "opened", "Support request opened"
        APPROVED = "approved", "Support request approved"
        REJECTED = "rejected", "Support request rejected"
        CARRIED_OUT = "carried_out", "Support request carried out"
        REPLIED = "replied", "Staff replied"

    request = models.ForeignKey(SupportRequest, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RequestEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.created_at:%Y-%m-%d %H:%M})"


def _check_staff(user, permission: str, what: str) -> None:
    if not (user and user.is_active and user.is_staff and user.has_perm(permission)):
        raise PermissionDenied(
            f"Only staff with the permission to {what} can do this (the “Support staff” group "
            "has it)."
        )


def _check_quota(requester) -> None:
    """ValidationError, saying when to try again, once ``requester`` filed as many requests in
    the last day as SUPPORT_REQUESTS_PER_USER_PER_DAY allows."""
    limit = settings.SUPPORT_REQUESTS_PER_USER_PER_DAY
    filed = SupportRequest.objects.filter(requester=requester)
    until = full_until(filed, "created_at", limit=limit, window=DAY)
    if until is not None:
        raise ValidationError(
            {
                "__all__": f"You filed {limit} support request{pluralize(limit)} in the last 24 "
                f"hours, the most allowed. You can file the next one {try_again(until)}; to add "
                f"to an open request, write to {settings.SUPPORT_EMAIL}."
            }
        )


def doi_effect(action: str, target_visibility: str = "") -> str:
    """What a request's action does to the repository's DOIs, for the owner and staff."""
    if action == SupportRequest.Action.DELETE:
        return (
            "The files and history are removed; the name stays reserved. The DOIs stay "
            "registered (DOIs are permanent) but are hidden at DataCite, and their pages show a "
            "tombstone with the citation, the removal date and the public reason."
        )
    if action == SupportRequest.Action.RENAME:
        return (
            "The repository moves and its old addresses redirect to the new one. The DOIs keep "
            "their registered address, which follows the repository; their metadata at DataCite "
            "is updated with the new name."
        )
    if target_visibility == SupportRequest.Visibility.PUBLIC:
        return "The DOIs become findable at DataCite again and lead to the repository."
    return (
        "The DOIs are hidden at DataCite but keep resolving: their pages show the citation and "
        "say that the repository is no longer publicly available."
    )


def _messages(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages in exc.message_dict.values() for m in messages]
    return exc.messages
