from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import IO

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage, storages
from django.db import connection, models, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Lower
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import content_disposition_header

from accounts.models import WRITER_ROLES, Membership, Namespace
from accounts.validators import NAME_MAX_LENGTH, validate_name
from repos import name_search, signals, uploads
from repos.cards import Card, as_list, parse_card
from repos.paths import media_type, normalize, shown, validate_path

README = "README.md"
_MB = 1024 * 1024
# Where large files wait, in the store, for their SHA-256 to be checked.
LFS_STAGING = "lfs-staging/"

# What a lock protects: a locked repository keeps its name, owner and visibility, and exists.
LOCKED_FIELDS = frozenset({"name", "namespace", "namespace_id", "private"})
OVERRIDE_PERMISSION = "repos.override_repo_lock"
_lock_override: ContextVar[str | None] = ContextVar("repo_lock_override", default=None)


class RepoLocked(Exception):
    """A locked repository was asked to be deleted, renamed, moved or change visibility."""

    def __init__(self, repo_name: str, action: str, reasons: Iterable[str]) -> None:
        self.repo_name, self.action = repo_name, action
        self.reasons = sorted(set(reasons)) or ["another record"]
        super().__init__(
            f"{repo_name} is locked by {' and '.join(self.reasons)}: it cannot be {action} "
            "by its owner, because its permanent identifiers must keep pointing to it. "
            "File a support request and staff will carry it out without breaking them."
        )


@contextmanager
def lock_override(*, actor, reason: str) -> Iterator[None]:
    """The one way past repository locks: staff carrying out an approved support request.

    Everything inside runs in one transaction. On PostgreSQL the database trigger that guards
    locked rows is told, for this transaction only, that the change is sanctioned.
    """
    if not (actor and actor.is_active and actor.is_staff and actor.has_perm(OVERRIDE_PERMISSION)):
        raise PermissionDenied(
            "Only staff with the permission to change locked repositories can carry out "
            "changes to a locked repository (the “Support staff” group has it)."
        )
    if not reason.strip():
        raise ValueError("A lock override needs a reason.")
    token = _lock_override.set(reason)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('hub.lock_override', 'on', true)")
            yield
    finally:
        _lock_override.reset(token)


def _locks_overridden() -> bool:
    return _lock_override.get() is not None


class RepoType(models.TextChoices):
    MODEL = "model", "Model"
    DATASET = "dataset", "Dataset"


def _member_of_owner(user, roles: Iterable[str] | None = None) -> Exists:
    memberships = Membership.objects.filter(
        organization__namespace=OuterRef("namespace"), user=user
    )
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return Exists(memberships)


def _indexed(term: str, by_index: bool) -> bool:
    return by_index and connection.vendor == "sqlite" and name_search.indexed(term)


def _name_contains(term: str, by_index: bool) -> Q:
    """Names containing ``term`` in any case: on SQLite through its trigram index
    (``repos.name_search``) where the term is long enough, else ``icontains``. The term is one
    parameter, whole (escaped for LIKE in SQL: ``Value``), so that a compiled query
    (``hubsite.queries.Prepared``) can take another."""
    if _indexed(term, by_index):
        return Q(pk__in=RawSQL(name_search.MATCHING, [term]))  # noqa: S611 (a parameter)
    return Q(name__icontains=Value(term))


def _ids(repos: RepoQuerySet) -> RepoQuerySet:
    """The ids of ``repos``, unordered: to count them (any will do)."""
    return repos.order_by().values("pk")


class RepoQuerySet(models.QuerySet["Repo"]):
    # The lock guard: bulk paths refuse when any repository in the set is locked.

    def locked(self) -> RepoQuerySet:
        return self.filter(Exists(RepoLock.objects.filter(repo=OuterRef("pk"))))

    def _refuse_if_locked(self, action: str) -> None:
        if _locks_overridden():
            return
        reasons = RepoLock.objects.filter(repo__in=self.values("pk")).values_list(
            "reason", "repo__namespace__name", "repo__name"
        )
        first = reasons.first()
        if first is not None:
            raise RepoLocked(f"{first[1]}/{first[2]}", action, [first[0]])

    def update(self, **kwargs) -> int:
        if LOCKED_FIELDS & kwargs.keys():
            self._refuse_if_locked("renamed, moved or have its visibility changed")
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, batch_size=None) -> int:
        if LOCKED_FIELDS & set(fields):
            self.filter(pk__in=[o.pk for o in objs])._refuse_if_locked(
                "renamed, moved or have its visibility changed"
            )
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def delete(self) -> tuple[int, dict[str, int]]:
        self._refuse_if_locked("deleted")
        return super().delete()

    def present(self) -> RepoQuerySet:
        """Not removed: a removed repository only remains as a tombstone behind its DOIs."""
        return self.filter(removed_at__isnull=True)

    def public(self) -> RepoQuerySet:
        return self.present().filter(private=False)

    def of_type(self, repo_type: str) -> RepoQuerySet:
        return self.filter(type=repo_type)

    def visible_to(self, user) -> RepoQuerySet:
        """Public repositories, and private ones the user owns or belongs to the organization of."""
        if not user.is_authenticated:
            return self.public()
        return self.present().filter(
            Q(private=False) | Q(namespace__user=user) | _member_of_owner(user)
        )

    def writable_by(self, user) -> RepoQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.present().filter(Q(namespace__user=user) | _member_of_owner(user, WRITER_ROLES))

    def administered_by(self, user) -> RepoQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.present().filter(
            Q(namespace__user=user) | _member_of_owner(user, [Membership.Role.ADMIN])
        )

    def search(self, query: str, *, by_index: bool = True) -> RepoQuerySet:
        """Repositories whose name contains ``query``, and those of the owner named exactly
        ``query``; ``owner/name`` matches parts of both. Each condition is on an index (on
        PostgreSQL, the trigram indexes of repos' migration 0007; on SQLite, its trigram table
        unless ``by_index`` is false): a condition on the owner's name ORed with one on the
        repository's would scan every repository."""
        query = query.strip()
        if not query:
            return self
        if "/" in query:
            owner, _, name = query.partition("/")
            owner_contains = Q(namespace__name__icontains=Value(owner))
            return self.filter(_name_contains(name, by_index), owner_contains)
        owner_named = Namespace.objects.with_name(query).values("pk")[:1]
        return self.filter(_name_contains(query, by_index) | Q(namespace=Subquery(owner_named)))

    def search_ids(self, query: str, *, by_index: bool = True) -> RepoQuerySet:
        """The ids of ``search(query)``, unordered: to count them, sliced to a limit (any
        will do).

        On SQLite the names containing the term are read by joining its trigram table, which
        gives matches one at a time until the limit: ``pk IN (the index's matches)``, as
        ``search`` reads them, first collects every match (2 ms for a term in one name in eight
        of 100,000, 0.06 ms joined). The table cannot be joined under an OR: the owner's
        repositories named otherwise are added with UNION ALL, which SQLite also reads only up
        to the limit."""
        query = query.strip()
        owner, slash, name = query.partition("/")
        if not _indexed(name if slash else query, by_index):
            return _ids(self.search(query, by_index=by_index))
        named = self.filter(name_search__name__match=name if slash else query)
        if slash:
            return _ids(named.filter(namespace__name__icontains=Value(owner)))
        owner_named = Namespace.objects.with_name(query).values("pk")[:1]
        others = self.filter(namespace=Subquery(owner_named)).exclude(name__icontains=Value(query))
        return _ids(named).union(_ids(others), all=True).order_by()

    def for_listing(self) -> RepoQuerySet:
        """What lists of repositories show: the owner and the card's licence as
        ``listed_license``, without loading the rest of the card metadata."""
        return self.select_related("namespace").annotate(
            listed_license=KeyTextTransform("license", "head__card_metadata")
        )

    def named(self, repo_type: str, owner: str, name: str) -> RepoQuerySet:
        """The present repository of this type called owner/name, in any case."""
        return (
            self.present()
            .select_related("namespace", "head")
            # On the indexes of the case-insensitive unique constraints (see Namespace's).
            .alias(owner_lower=Lower("namespace__name"), name_lower=Lower("name"))
            .filter(type=repo_type, owner_lower=owner.lower(), name_lower=name.lower())
        )

    def at(self, repo_type: str, owner: str, name: str) -> Repo:
        return self.named(repo_type, owner, name).get()


class Repo(models.Model):
    namespace = models.ForeignKey(Namespace, on_delete=models.PROTECT, related_name="repos")
    name = models.CharField(max_length=NAME_MAX_LENGTH, validators=[validate_name])
    type = models.CharField(max_length=8, choices=RepoType, default=RepoType.MODEL)
    private = models.BooleanField(default=False)
    head = models.ForeignKey(
        "Revision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # A removed repository keeps its row as a tombstone: the name stays reserved and the DOIs
    # that point to it keep answering (410 Gone, with their citation).
    removed_at = models.DateTimeField(null=True, blank=True)
    removal_reason = models.TextField(
        blank=True, help_text="Shown publicly on the tombstone page of its DOIs."
    )

    objects = RepoQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "namespace", Lower("name"), "type", name="repo_name_ci_unique_per_owner_and_type"
            )
        ]
        indexes = [
            models.Index(fields=["private", "-updated_at"]),
            # Listings of one type, most recently updated first (also for those who may see
            # private ones), are read in this order instead of sorted.
            models.Index(fields=["type", "-updated_at", "-id"], name="repo_listing_order"),
            # A listing counts up to LISTING_COUNT_LIMIT of what it shows from this index alone,
            # without reading each row: 1.3 ms → 0.1 ms on SQLite at 100,000 repositories,
            # 0.5 ms → 0.15 ms on PostgreSQL at a million.
            models.Index(fields=["type", "private", "removed_at"], name="repo_listing_count"),
        ]
        ordering = ["-updated_at"]
        permissions = [
            ("override_repo_lock", "Can change a locked repository (carrying out a request)")
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.namespace.name}/{self.name}"

    @property
    def is_dataset(self) -> bool:
        return self.type == RepoType.DATASET

    # URLs -------------------------------------------------------------------------------------

    def url(self, view: str, *args) -> str:
        """The URL of one of this repository's pages: ``page``, ``settings``, ``commits`` … or
        another app's page routed by ``repos.pages.routes``, such as ``doi-owner:section``."""
        app, _, page = view.rpartition(":")
        return reverse(
            f"{app or 'repos'}:{self.type}-{page}", args=[self.namespace.name, self.name, *args]
        )

    def get_absolute_url(self) -> str:
        return self.url("page")

    # Locks ------------------------------------------------------------------------------------

    @property
    def lock_reasons(self) -> list[str]:
        """What locks this repository (e.g. ["DOI"]); empty when it is not locked."""
        if self.pk is None:
            return []
        return sorted(set(self.locks.values_list("reason", flat=True)))

    @property
    def is_locked(self) -> bool:
        return bool(self.lock_reasons)

    def save(self, *args, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        guarded = update_fields is None or LOCKED_FIELDS & set(update_fields)
        if self.pk is not None and guarded and not _locks_overridden():
            stored = (
                Repo.objects.filter(pk=self.pk)
                .values("name", "namespace_id", "private", "namespace__name")
                .first()
            )
            current = {
                "name": self.name,
                "namespace_id": self.namespace_id,
                "private": self.private,
            }
            owner = stored.pop("namespace__name", None) if stored else None
            if stored is not None and stored != current and self.lock_reasons:
                action = "made private" if stored["private"] != self.private else "renamed or moved"
                if stored["private"] and not self.private:
                    action = "made public"
                # Named as it stands, not as the refused move would have it.
                raise RepoLocked(f"{owner}/{stored['name']}", action, self.lock_reasons)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        """Delete the repository, or, when another app has records that must outlive it (it
        answers ``signals.deleting`` with what happens to them), remove it to a tombstone
        whose reason says so."""
        if not _locks_overridden() and self.lock_reasons:
            raise RepoLocked(self.full_name, "deleted", self.lock_reasons)
        with transaction.atomic():
            kept = [answer for _, answer in signals.deleting.send(sender=Repo, repo=self) if answer]
            if kept:
                self.remove(reason=f"Deleted by its owner. {' '.join(kept)}")
                return 0, {}
            return super().delete(*args, **kwargs)

    # Access -----------------------------------------------------------------------------------

    def _role(self, user) -> str | None:
        """'owner' for the user namespace's owner, else the organization role, else None."""
        if not user.is_authenticated:
            return None
        if self.namespace.kind == Namespace.Kind.USER:
            return "owner" if self.namespace_id == user.namespace_id else None
        cache = self.__dict__.setdefault("_role_cache", {})
        if user.pk not in cache:
            cache[user.pk] = (
                Membership.objects.filter(organization__namespace=self.namespace_id, user=user)
                .values_list("role", flat=True)
                .first()
            )
        return cache[user.pk]

    def can_view(self, user) -> bool:
        return not self.private or self._role(user) is not None

    def can_write(self, user) -> bool:
        return self._role(user) in ("owner", *WRITER_ROLES)

    def can_admin(self, user) -> bool:
        return self._role(user) in ("owner", Membership.Role.ADMIN)

    # Content ----------------------------------------------------------------------------------

    @cached_property
    def card_metadata(self) -> dict:
        return self.head.card_metadata if self.head else {}

    @property
    def license(self) -> str:
        value = self.card_metadata.get("license")
        return str(value) if value else ""

    @property
    def tags(self) -> list[str]:
        return as_list(self.card_metadata.get("tags"))

    def resolve_revision(self, rev: str) -> Revision:
        """A revision of this repository by full or abbreviated (at least 7 characters) id."""
        rev = rev.lower()
        revisions = self.revisions.select_related("author")  # the repository page names them
        if len(rev) == 40:
            return revisions.get(oid=rev)
        if len(rev) < 7:
            raise Revision.DoesNotExist(rev)
        matches = list(revisions.filter(oid__startswith=rev)[:2])
        if len(matches) != 1:
            raise Revision.DoesNotExist(rev)
        return matches[0]

    def clean(self) -> None:
        taken = Repo.objects.filter(
            type=self.type, namespace_id=self.namespace_id, name__iexact=self.name
        ).exclude(pk=self.pk)
        if self.namespace_id and self.name and taken.exists():
            raise ValidationError(
                {"name": f"{self.namespace.name} already has a {self.type} named “{self.name}”."}
            )

    def move(self, *, namespace: Namespace, name: str) -> None:
        """Rename and/or move to another namespace; the old URLs keep redirecting here."""
        old_namespace, old_name = self.namespace, self.name
        self.namespace, self.name = namespace, name
        try:
            self.full_clean(exclude=["head"])
            with transaction.atomic():
                # The new name may have redirected elsewhere; a real repository takes precedence.
                RepoRedirect.objects.filter(
                    type=self.type, owner__iexact=namespace.name, name__iexact=name
                ).delete()
                RepoRedirect.objects.update_or_create(
                    type=self.type,
                    owner=old_namespace.name,
                    name=old_name,
                    defaults={"repo": self},
                )
                self.updated_at = timezone.now()
                self.save(update_fields=["namespace", "name", "updated_at"])
        except Exception:
            self.namespace, self.name = old_namespace, old_name
            raise

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None

    def remove(self, *, reason: str) -> None:
        """Delete the files and revisions but keep the row as a tombstone (name reserved).

        A locked repository can only be removed inside ``lock_override`` (the staff path).
        """
        if not _locks_overridden() and self.lock_reasons:
            raise RepoLocked(self.full_name, "deleted", self.lock_reasons)
        with transaction.atomic():
            Repo.objects.filter(pk=self.pk).update(head=None)
            self.revisions.all().delete()
            self.removed_at, self.removal_reason, self.head = timezone.now(), reason, None
            self.save(update_fields=["removed_at", "removal_reason", "head"])
            signals.removed.send(sender=Repo, repo=self)

    def set_private(self, private: bool) -> None:
        was_private = self.private
        self.private = private
        try:
            self.updated_at = timezone.now()
            with transaction.atomic():
                self.save(update_fields=["private", "updated_at"])
                if was_private and not private:
                    signals.made_public.send(sender=Repo, repo=self)
        except Exception:
            self.private = was_private
            raise

    def check_commit(self, *, author, sizes: Mapping[str, int]) -> None:
        """Refuse, before anything is read or stored, a commit ``author`` may not make or that
        brings files of ``sizes`` (path → bytes) the hub does not take. ``commit`` checks the
        same; callers that learn the sizes first (the API's preupload) ask here early."""
        if not self.can_write(author):
            raise PermissionDenied(
                f"You cannot commit to {self.full_name}: only its owner, or the organization's "
                "admins and writers, can."
            )
        for path in sizes:
            validate_path(path)
        total = sum(sizes.values())
        if total > uploads.limit_bytes():
            raise CommitTooLarge(uploads.too_large_message(total))

    def commit(
        self,
        *,
        author,
        message: str,
        description: str = "",
        add: Mapping[str, bytes | IO[bytes]] | None = None,
        remove: Iterable[str] = (),
        remove_folders: Iterable[str] = (),
        stored: Mapping[str, str] | None = None,
        parent: str | None = None,
    ) -> Revision:
        """Record a new revision: the current files, plus ``add`` (path → content) and
        ``stored`` (path → SHA-256 of content that is already in one of this repository's
        revisions: a copy), less the files ``remove`` and everything under ``remove_folders``.
        Paths are taken in Unicode NFC.

        With ``parent`` (a full or abbreviated revision id), refuse with ``ParentMoved`` unless
        the repository's head is still that revision. A path to remove that is not there is
        ``NothingToRemove``; nothing is committed whenever anything is refused.
        """
        add = {normalize(path): content for path, content in (add or {}).items()}
        remove = [normalize(path) for path in remove]
        remove_folders = [normalize(path).rstrip("/") for path in remove_folders]
        stored = {normalize(path): sha256.lower() for path, sha256 in (stored or {}).items()}
        self.check_commit(author=author, sizes={p: _size(c) for p, c in add.items()})
        for path in [*remove, *remove_folders, *stored]:
            validate_path(path)
        # Stored before the repository row is locked: sending a large file to the object store
        # takes a while, and content-addressed blobs are harmless if the commit then fails.
        blobs = {path: Blob.store(content) for path, content in add.items()}
        with transaction.atomic():
            repo = Repo.objects.select_for_update().get(pk=self.pk)
            head = repo.head
            if parent is not None and not _is_revision(head, parent):
                raise ParentMoved(parent, head)
            tree: dict[str, Blob] = {}
            if head is not None:
                tree = {f.path: f.blob for f in head.files.select_related("blob")}
            readme_before = tree.get(README)
            for path in remove:
                if tree.pop(path, None) is None:
                    raise NothingToRemove(path, folder=False)
            for folder in remove_folders:
                inside = [path for path in tree if path.startswith(f"{folder}/")]
                if not inside:
                    raise NothingToRemove(folder, folder=True)
                for path in inside:
                    del tree[path]
            tree |= blobs | repo._stored_blobs(stored)
            now = timezone.now()
            message = message.strip() or "Update files"
            if description.strip():
                message = f"{message}\n\n{description.strip()}"
            revision = Revision(
                repo=repo, parent=head, message=message, author=author, created_at=now
            )
            revision.oid = revision.compute_oid(tree)
            unchanged = readme_before is not None and tree.get(README) == readme_before
            revision.take_card(tree.get(README), head if unchanged else None)
            revision.save()
            RevisionFile.objects.bulk_create(
                RevisionFile(revision=revision, path=path, blob=blob)
                for path, blob in sorted(tree.items())
            )
            Repo.objects.filter(pk=repo.pk).update(head=revision, updated_at=now)
        self.head, self.updated_at = revision, now
        self.__dict__.pop("card_metadata", None)
        return revision

    def _stored_blobs(self, stored: Mapping[str, str]) -> dict[str, Blob]:
        """The blobs ``stored`` names, each from this repository only: knowing the hash of a
        file elsewhere (in a private repository, say) must not bring its content here."""
        if not stored:
            return {}
        mine = RevisionFile.objects.filter(revision__repo=self, blob__sha256__in=stored.values())
        uploaded = LfsUpload.objects.filter(repo=self, blob__isnull=False)
        blobs = {
            blob.sha256: blob
            for blob in Blob.objects.filter(
                Q(pk__in=mine.values("blob")) | Q(pk__in=uploaded.values("blob")),
                sha256__in=stored.values(),
            )
        }
        for path, sha256 in stored.items():
            if sha256 not in blobs:
                raise NotStoredHere(path, sha256)
        return {path: blobs[sha256] for path, sha256 in stored.items()}


class RepoNameSearch(models.Model):
    """A repository's name in SQLite's trigram index (``repos.name_search``; PostgreSQL has
    no such table), for joining: ``Repo.objects.filter(name_search__name__match=…)``."""

    repo = models.OneToOneField(
        Repo, models.DO_NOTHING, primary_key=True, db_column="rowid", related_name="name_search"
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)

    class Meta:
        managed = False
        db_table = name_search.TABLE

    def __str__(self) -> str:
        return self.name


RepoNameSearch._meta.get_field("name").register_lookup(name_search.Match)


class CommitRefused(Exception):
    """A commit the hub will not make; the message says why, and that nothing was committed."""


class CommitTooLarge(CommitRefused):
    """The files of one commit together pass ``REPO_UPLOAD_MAX_MB``."""


class NotStoredHere(CommitRefused):
    """A file named by the SHA-256 of content this repository does not have."""

    def __init__(self, path: str, sha256: str) -> None:
        super().__init__(
            f"“{shown(path)}” names content by its SHA-256 {sha256[:64]}, which no revision of "
            "this repository has: send the file itself, inside the commit (large-file uploads "
            "are not offered yet). Nothing was committed."
        )


class ParentMoved(CommitRefused):
    """The commit was based on a revision that is no longer the repository's head."""

    def __init__(self, parent: str, head: Revision | None) -> None:
        now = f"it is {head.oid} now" if head else "the repository has no revision yet"
        super().__init__(
            f"The commit was made on top of {parent}, but that is no longer the latest "
            f"revision ({now}). Nothing was committed: start again from the latest revision."
        )


class NothingToRemove(CommitRefused):
    """A file or folder to delete is not in the repository."""

    def __init__(self, path: str, *, folder: bool) -> None:
        kind = "folder" if folder else "file"
        super().__init__(
            f"“{shown(path)}” cannot be deleted: a {kind} with this name doesn't exist in the "
            "latest revision. Nothing was committed."
        )


def _is_revision(revision: Revision | None, oid: str) -> bool:
    oid = oid.lower()
    return revision is not None and len(oid) >= 7 and revision.oid.startswith(oid)


def _size(content: bytes | IO[bytes]) -> int:
    if isinstance(content, bytes):
        return len(content)
    size = getattr(content, "size", None)
    if size is None:
        position = content.tell()
        size = content.seek(0, 2) - position
        content.seek(position)
    return size


class Blob(models.Model):
    """File content, stored once through Django's storage API under its SHA-256."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    file = models.FileField(upload_to="blobs/", max_length=200)

    def __str__(self) -> str:
        return self.sha256

    @classmethod
    def store(cls, content: bytes | IO[bytes]) -> Blob:
        """The blob holding ``content``, written to storage only if no blob holds it yet. A
        file is read in chunks, twice (hash, then copy), so its size does not matter."""
        if isinstance(content, bytes):
            file = ContentFile(content)
        else:
            file = content if isinstance(content, File) else File(content)
        digest, size = _sha256(file)
        blob = cls.objects.filter(sha256=digest).first()
        if blob is not None:
            return blob
        name = f"blobs/{digest[:2]}/{digest}"
        if not default_storage.exists(name):
            file.seek(0)
            name = default_storage.save(name, file)
        blob, _ = cls.objects.get_or_create(sha256=digest, defaults={"size": size, "file": name})
        return blob

    def open(self) -> IO[bytes]:
        return default_storage.open(self.file.name, "rb")

    def read(self) -> bytes:
        with self.open() as fh:
            return fh.read()

    def read_text(self) -> str:
        return self.read().decode("utf-8", errors="replace")

    def direct_download_url(self, filename: str) -> str | None:
        """A short-lived URL that downloads the file straight from the object store, for files
        over S3_REDIRECT_DOWNLOADS_OVER_MB; None where the site serves it itself."""
        if not getattr(storages["default"], "presigns_downloads", False) or (
            self.size <= settings.S3_REDIRECT_DOWNLOADS_OVER_MB * 1024 * 1024
        ):
            return None
        return default_storage.url(
            self.file.name,
            parameters={
                "ResponseContentType": media_type(filename),
                "ResponseContentDisposition": content_disposition_header(True, filename),
            },
        )


class LfsQuotaExceeded(Exception):
    """Large files over ``LFS_MAX_FILE_MB`` each or ``LFS_REPO_QUOTA_MB`` for one repository;
    the message names the limit and says that nothing was uploaded."""


class LfsUploadQuerySet(models.QuerySet["LfsUpload"]):
    def check_quota(self, repo: Repo, sizes: Mapping[str, int]) -> None:
        """Refuse, before any byte is sent, large files of ``sizes`` (SHA-256 → bytes) that pass
        the per-file limit, or that would take ``repo`` past its quota of large files (content
        it was announced before counts once)."""
        for size in sizes.values():
            if size > settings.LFS_MAX_FILE_MB * _MB:
                raise LfsQuotaExceeded(
                    f"A file of {filesizeformat(size)} is over the limit of "
                    f"{settings.LFS_MAX_FILE_MB} MB per file (LFS_MAX_FILE_MB). "
                    "Nothing was uploaded."
                )
        announced = self.filter(repo=repo)
        known = set(announced.values_list("sha256", flat=True))
        used = announced.aggregate(total=models.Sum("size"))["total"] or 0
        new = sum(size for sha256, size in sizes.items() if sha256 not in known)
        if used + new > settings.LFS_REPO_QUOTA_MB * _MB:
            raise LfsQuotaExceeded(
                f"{repo.full_name} holds {filesizeformat(used)} of large files; "
                f"{filesizeformat(new)} more would pass its quota of "
                f"{settings.LFS_REPO_QUOTA_MB} MB (LFS_REPO_QUOTA_MB). Nothing was uploaded."
            )

    def announce(self, repo: Repo, sha256: str, size: int) -> LfsUpload:
        """The upload of ``sha256`` for ``repo``, found or made, with the size last announced.
        Content the hub holds already is taken at once (``blob`` set): never written twice."""
        upload, _ = self.get_or_create(repo=repo, sha256=sha256, defaults={"size": size})
        if upload.blob is None and Blob.objects.filter(sha256=sha256).exists():
            upload.verify()
        if upload.blob is None:
            upload.requested(size)
        return upload

    def verify_all(self, repo: Repo, sha256s: Iterable[str]) -> None:
        """``verify`` each upload of ``sha256s`` announced for ``repo``, before a commit names
        them; ``UploadNotVerified`` for the first one not announced or not its content."""
        sha256s = list(sha256s)
        announced = {u.sha256: u for u in self.filter(repo=repo, sha256__in=sha256s)}
        for sha256 in sha256s:
            if sha256 not in announced:
                raise UploadNotVerified(
                    f"No large file {sha256} was announced for {repo.full_name}: choose the "
                    "file again. Nothing was committed."
                )
            announced[sha256].verify()

    def unverified(self) -> LfsUploadQuerySet:
        return self.filter(blob__isnull=True)

    def requested_before(self, moment) -> LfsUploadQuerySet:
        return self.filter(requested_at__lt=moment)

    def discard_abandoned(self, before: datetime) -> tuple[int, int]:
        """Give up the uploads not verified and not announced since ``before``: their multipart
        uploads, staged objects and rows. Then what the store still holds under the staging
        prefix from before then that no upload names (a deleted repository's): the number of
        uploads given up, and of such leftovers."""
        abandoned = list(self.unverified().requested_before(before))
        for upload in abandoned:
            upload.discard_staged()
        self.filter(pk__in=[upload.pk for upload in abandoned]).delete()
        if not hasattr(default_storage, "multiparts_started_before"):
            return len(abandoned), 0  # local disk: the site never takes large files straight
        in_use = {upload.staging_name for upload in self.unverified()}
        multiparts = [
            (name, upload_id)
            for name, upload_id in default_storage.multiparts_started_before(LFS_STAGING, before)
            if name not in in_use
        ]
        for name, upload_id in multiparts:
            default_storage.abort_multipart(name, upload_id)
        objects = [
            name
            for name in default_storage.objects_written_before(LFS_STAGING, before)
            if name not in in_use
        ]
        for name in objects:
            default_storage.delete(name)
        return len(abandoned), len(multiparts) + len(objects)


class LfsUpload(models.Model):
    """A large file announced for ``repo`` (by the client's LFS batch API or the site's upload
    page): sent straight to the object store under a staging key, and usable in this
    repository's commits (by its SHA-256) only once ``verify`` found the content it was
    announced as, then ``blob``."""

    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="lfs_uploads")
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    # The last batch request for it: an unverified upload untouched for long is abandoned.
    requested_at = models.DateTimeField(default=timezone.now)
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, null=True, blank=True)
    # The store's multipart upload in progress for it (a file over LFS_PART_SIZE_MB), and the
    # size of its parts, kept while it lasts so that a resumed upload cuts the file as before.
    multipart_id = models.CharField(max_length=1024, blank=True)
    part_size = models.BigIntegerField(null=True, blank=True)

    objects = LfsUploadQuerySet.as_manager()

    objects = LfsUploadQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repo", "sha256"], name="one_lfs_upload_per_object")
        ]

    def __str__(self) -> str:
        return f"{self.repo_id}:{self.sha256}"

    @property
    def staging_name(self) -> str:
        return f"{LFS_STAGING}{self.repo_id}/{self.sha256}"

    def requested(self, size: int) -> None:
        """Note a batch request for this object, announced as ``size`` bytes: a multipart
        upload in progress for another size is given up."""
        if size != self.size:
            self.discard_staged()
            self.size = size
        self.requested_at = timezone.now()
        self.save(update_fields=["size", "requested_at", "multipart_id", "part_size"])

    @property
    def is_multipart(self) -> bool:
        return self.size > settings.LFS_PART_SIZE_MB * _MB

    def part_urls(self) -> tuple[int, list[str]]:
        """The part size and presigned URLs of every part of this object's multipart upload:
        the one in progress (the client sends every part it is given, so parts the store has
        are sent again and replace themselves), else a new one."""
        if self.multipart_id and self._parts() is None:
            self.multipart_id = ""  # completed or aborted meanwhile
        if not self.multipart_id:
            # S3 takes at most 10,000 parts: a file bigger than that many parts gets bigger parts.
            self.part_size = max(settings.LFS_PART_SIZE_MB * _MB, -(-self.size // 10_000))
            self.multipart_id = default_storage.start_multipart(self.staging_name)
            self.save(update_fields=["multipart_id", "part_size"])
        urls = default_storage.upload_part_urls(
            self.staging_name,
            self.multipart_id,
            self._part_count(),
            expires=settings.LFS_UPLOAD_HOURS * 3600,
        )
        return self.part_size, urls

    def complete(self) -> Blob:
        """Join the parts the store holds into the staged object, then ``verify`` it. Parts
        missing or of the wrong size are refused (the upload stays, to be finished)."""
        if self.blob is not None:
            return self.blob
        parts = self._parts() if self.multipart_id else None
        if parts is None:
            return self.verify()  # completed already, by an earlier request
        count, held = self._part_count(), {p["PartNumber"]: p for p in parts}
        missing = [n for n in range(1, count + 1) if n not in held]
        if missing:
            raise UploadNotVerified(
                f"Part(s) {', '.join(map(str, missing))} of {count} of {self.sha256} are not in "
                "the store: upload the file again to send them."
            )
        for number in range(1, count + 1):
            expected = min(self.part_size, self.size - (number - 1) * self.part_size)
            if held[number]["Size"] != expected:
                raise UploadNotVerified(
                    f"Part {number} of {self.sha256} has {held[number]['Size']} bytes, not "
                    f"{expected}: upload the file again."
                )
        default_storage.complete_multipart(
            self.staging_name, self.multipart_id, [held[n] for n in range(1, count + 1)]
        )
        self.multipart_id = ""
        self.save(update_fields=["multipart_id"])
        return self.verify()

    def discard_staged(self) -> None:
        """Give up what was sent of this object and not verified: the multipart upload in
        progress and the staged object."""
        if self.multipart_id:
            default_storage.abort_multipart(self.staging_name, self.multipart_id)
            self.multipart_id, self.part_size = "", None
        default_storage.delete(self.staging_name)

    def _parts(self) -> list[dict] | None:
        return default_storage.uploaded_parts(self.staging_name, self.multipart_id)

    def _part_count(self) -> int:
        return max(1, -(-self.size // self.part_size))

    def verify(self) -> Blob:
        """The blob of this upload, once the staged object's size and SHA-256 are the announced
        ones: read back from the store in chunks (memory stays flat), then copied inside the
        store to the blob's content-addressed key. A mismatch deletes the staged object."""
        if self.blob is not None:
            return self.blob
        existing = Blob.objects.filter(sha256=self.sha256).first()
        if existing is None:
            if not default_storage.exists(self.staging_name):
                raise UploadNotVerified(
                    f"No object {self.sha256} was uploaded: send it to the upload URL the batch "
                    "answer gave, then verify."
                )
            with default_storage.open(self.staging_name, "rb") as fh:
                digest, size = _sha256(File(fh))
            if (digest, size) != (self.sha256, self.size):
                default_storage.delete(self.staging_name)
                raise UploadNotVerified(
                    f"The uploaded object has {size} bytes and SHA-256 {digest}, not the "
                    f"announced {self.size} bytes and {self.sha256}: it was discarded; upload "
                    "the file again."
                )
            name = f"blobs/{self.sha256[:2]}/{self.sha256}"
            default_storage.copy(self.staging_name, name)
            default_storage.delete(self.staging_name)
            existing, _ = Blob.objects.get_or_create(
                sha256=self.sha256, defaults={"size": self.size, "file": name}
            )
        self.blob = existing
        self.save(update_fields=["blob"])
        return existing


class UploadNotVerified(Exception):
    """An LFS object whose content is missing or not what the client announced."""


def _sha256(file: File) -> tuple[str, int]:
    file.seek(0)
    digest, size = hashlib.sha256(), 0
    for chunk in file.chunks():
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class RevisionQuerySet(models.QuerySet["Revision"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        """Revisions of a locked repository go only with it, through ``lock_override``: a
        permanent identifier may name any of them."""
        if not _locks_overridden():
            Repo.objects.filter(pk__in=self.values("repo_id"))._refuse_if_locked(
                "rewritten (a revision deleted)"
            )
        return super().delete()


class Revision(models.Model):
    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="revisions")
    oid = models.CharField("revision id", max_length=40)
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    card_metadata = models.JSONField(default=dict, blank=True)
    card_error = models.CharField(max_length=300, blank=True)
    # ``Card.outline()`` of the README: what a DOI's record takes from its text. None for a
    # revision committed before it was kept; ``outline()`` works it out then, once.
    card_outline = models.JSONField(null=True, blank=True, editable=False)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repo", "oid"], name="revision_oid_unique_per_repo")
        ]
        indexes = [models.Index(fields=["repo", "-created_at"])]
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.short_oid

    @property
    def short_oid(self) -> str:
        return self.oid[:7]

    def delete(self, *args, **kwargs):
        if not _locks_overridden() and self.repo.lock_reasons:
            raise RepoLocked(
                self.repo.full_name, "rewritten (a revision deleted)", self.repo.lock_reasons
            )
        return super().delete(*args, **kwargs)

    def take_card(self, readme: Blob | None, unchanged_from: Revision | None) -> None:
        """Parse the card from ``readme``, or take it from ``unchanged_from``, a revision with
        the same README: a commit that does not touch it does not read it from the store."""
        if readme is None:
            self.card_metadata, self.card_error, self.card_outline = {}, "", Card().outline()
            return
        if unchanged_from is not None and unchanged_from.card_outline is not None:
            self.card_metadata = unchanged_from.card_metadata
            self.card_error = unchanged_from.card_error
            self.card_outline = unchanged_from.card_outline
            return
        card = parse_card(readme.read_text())
        self.card_metadata, self.card_error, self.card_outline = (
            card.metadata,
            card.error,
            card.outline(),
        )

    def outline(self) -> dict:
        """``card_outline``, worked out from the README in the store (and kept) for a revision
        committed before it was."""
        if self.card_outline is None:
            readme = self.files.filter(path=README).select_related("blob").first()
            card = parse_card(readme.blob.read_text()) if readme else Card()
            self.card_outline = card.outline()
            Revision.objects.filter(pk=self.pk).update(card_outline=self.card_outline)
        return self.card_outline

    def compute_oid(self, tree: Mapping[str, Blob]) -> str:
        """A 40-hex id in git's spirit: the hash of the parent, author, time, message and files."""
        h = hashlib.sha1(usedforsecurity=False)
        h.update(f"parent {self.parent.oid if self.parent else ''}\n".encode())
        h.update(f"author {self.author.pk if self.author else ''}\n".encode())
        h.update(f"time {self.created_at.isoformat()}\n".encode())
        for path, blob in sorted(tree.items()):
            h.update(f"file {blob.sha256} {path}\n".encode())
        h.update(b"\n" + self.message.encode())
        return h.hexdigest()

    def get_absolute_url(self) -> str:
        return self.repo.url("tree", self.oid)

    @property
    def is_head(self) -> bool:
        return self.repo.head_id == self.pk


class RevisionFile(models.Model):
    """One file of a revision's tree."""

    revision = models.ForeignKey(Revision, on_delete=models.CASCADE, related_name="files")
    path = models.CharField(max_length=255, validators=[validate_path])
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["revision", "path"], name="revision_file_unique_path")
        ]
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path


class RepoLock(models.Model):
    """Something outside this app (a DOI) that needs the repository to stay as it is.

    While a repository has a lock, its owner cannot delete, rename, move it or change its
    visibility; only ``lock_override`` (the staff path) can. The holder releases its lock.
    """

    repo = models.ForeignKey(Repo, on_delete=models.PROTECT, related_name="locks")
    reason = models.CharField(max_length=40, help_text="Shown as “locked by <reason>”.")
    holder = models.CharField(max_length=255, help_text="Who holds it, e.g. doi:10.5072/hub/0001")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["repo", "holder"], name="repo_lock_unique_holder")
        ]

    def __str__(self) -> str:
        return f"{self.repo} locked by {self.reason} ({self.holder})"


class RepoRedirect(models.Model):
    """An old owner/name of a renamed or moved repository, so old URLs keep working."""

    type = models.CharField(max_length=8, choices=RepoType)
    owner = models.CharField(max_length=NAME_MAX_LENGTH)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    repo = models.ForeignKey(Repo, on_delete=models.CASCADE, related_name="redirects")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "type", Lower("owner"), Lower("name"), name="repo_redirect_unique_old_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.owner}/{self.name} → {self.repo}"
