from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Upper
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import Namespace
from doi.citation_file import proposed_related_works
from doi.metadata import (
    RECORD_LABELS,
    DoiMetadataError,
    build_attributes,
    clean_creator,
    clean_record,
    record_changes,
    record_defaults,
    validate_attributes,
)
from doi.registrars import Registrar, RegistrarError, Usage, get_registrar
from hubsite.queries import STAND_IN_TEXT, Prepared
from hubsite.quotas import DAY, full_until, try_again
from repos.models import Repo, RepoLock, Revision

__all__ = ["Consent", "Doi", "DoiCounter", "DoiMetadataError", "DoiNotAllowed", "Event"]

# Shown as "locked by DOI" on the repository.
LOCK_REASON = "DOI"
# How long a freshly queued push may take before ``doi_sync`` assumes the worker died.
WORKER_GRACE = timedelta(minutes=1)
# Transient failures are retried after 30 s, 1 min, 2 min … at most every 6 hours.
RETRY_BASE = timedelta(seconds=30)
RETRY_MAX = timedelta(hours=6)
# A person may ask for a DOI to be retried once a minute: enough to catch DataCite the moment it
# has recovered, too seldom to add to its load while it has not.
RETRY_INTERVAL = timedelta(minutes=1)


class DoiNotAllowed(Exception):
    """A DOI action the user may not take, or that makes no sense now; the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def doi_name(number: int) -> str:
    """The DOI for suffix number ``number``: ``DOI_PREFIX/DOI_SUFFIX_PATTERN``."""
    return f"{settings.DOI_PREFIX}/{settings.DOI_SUFFIX_PATTERN.format(number=number)}"


class DoiCounter(models.Model):
    """The last suffix number handed out under a prefix. Numbers only go up: never reused."""

    prefix = models.CharField(max_length=32, unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.prefix}: {self.last_number}"

    @classmethod
    def allocations(cls) -> Iterator[tuple[int, str]]:
        """The next numbers and their DOI names, one each time the next is asked for. Use them
        inside the transaction that asks: the counter row stays locked until it ends, so two
        requests never get the same number."""
        prefix = settings.DOI_PREFIX
        counter = cls.objects.select_for_update().filter(prefix=prefix).first()
        if counter is None:
            cls.objects.get_or_create(prefix=prefix)
            counter = cls.objects.select_for_update().get(prefix=prefix)
        # Numbers order a repository's versions (the highest is the latest), so they must go
        # up across prefixes too: a new or earlier prefix continues after the highest in use.
        highest = Doi.objects.aggregate(highest=Max("number"))["highest"] or 0
        counter.last_number = max(counter.last_number, highest)
        while True:
            counter.last_number += 1
            name = doi_name(counter.last_number)
            # A name can exist already if the suffix pattern was changed; skip it, never reuse.
            if Doi.objects.named(name).exists():
                continue
            counter.save(update_fields=["last_number"])
            yield counter.last_number, name

    @classmethod
    def upcoming(cls) -> Iterator[tuple[int, str]]:
        """The numbers and names ``allocate`` would likely hand out next, in turn (for previews;
        allocates nothing)."""
        last = (
            cls.objects.filter(prefix=settings.DOI_PREFIX)
            .values_list("last_number", flat=True)
            .first()
        )
        highest = Doi.objects.aggregate(highest=Max("number"))["highest"] or 0
        number = max(last or 0, highest)
        while True:
            number += 1
            yield number, doi_name(number)


class _LeadingTo:
    """The query of ``DoiQuerySet.leading_to``, and the rows it reads made into a DOI with its
    repository and owner (the other fields deferred)."""

    DOI: ClassVar = ["id", "doi", "kind", "revision_id", "revision_oid", "remote_state",
                     "pending_action", "error_is_permanent", "discarded_at", "repo_id"]  # fmt: skip
    REPO: ClassVar = ["type", "name", "private", "removed_at", "namespace_id"]
    NAMESPACE: ClassVar = ["name"]

    query = Prepared(
        lambda name: (
            Doi.objects.live()
            .named(name)
            .order_by()
            .values_list(
                *_LeadingTo.DOI,
                *(f"repo__{c}" for c in _LeadingTo.REPO),
                *(f"repo__namespace__{c}" for c in _LeadingTo.NAMESPACE),
            )
        ),
        name=STAND_IN_TEXT,
    )

    @classmethod
    def build(cls, row: tuple) -> Doi:
        doi_end, repo_end = len(cls.DOI), len(cls.DOI) + len(cls.REPO)
        doi = _from_db(Doi, cls.DOI, row[:doi_end])
        doi.repo = _from_db(Repo, ["id", *cls.REPO], (doi.repo_id, *row[doi_end:repo_end]))
        doi.repo.namespace = _from_db(
            Namespace, ["id", *cls.NAMESPACE], (doi.repo.namespace_id, *row[repo_end:])
        )
        return doi


def _from_db[M: models.Model](model: type[M], names: list[str], values: tuple) -> M:
    """A ``model`` instance as the ORM loads it, from raw ``values`` of the fields ``names``
    (converted as the ORM would: SQLite gives booleans as integers and datetimes as text)."""
    attnames, columns = _loading(model, tuple(names))
    converted = [None if values[i] is None else field.to_python(values[i]) for i, field in columns]
    return model.from_db(connection.alias, attnames, converted)


@cache
def _loading(model: type[models.Model], names: tuple[str, ...]) -> tuple[list[str], list]:
    """How ``_from_db`` loads the fields ``names`` of ``model``, found once per process:
    their attribute names in the order of the model's fields (as ``from_db`` takes them), and
    for each, its place in ``names`` and its field."""
    fields = [model._meta.get_field(n) for n in names]
    given = {field.attname: (i, field) for i, field in enumerate(fields)}
    attnames = [f.attname for f in model._meta.concrete_fields if f.attname in given]
    return attnames, [given[a] for a in attnames]


def _check_can_mint(repo: Repo, user, *, draft: bool = False) -> Revision:
    """The revision a new version DOI would name, or DoiNotAllowed saying why there is none.
    A ``draft`` (Reserve DOI) is for private repositories only; any other DOI for public ones."""
    if not repo.can_admin(user):
        raise DoiNotAllowed(
            "Only the repository's owner or an organization admin can generate a DOI."
        )
    if repo.private and not draft:
        raise DoiNotAllowed(
            "A private repository cannot get a registered DOI: a DOI promises that anyone can "
            "reach what it names. Reserve one instead, or make the repository public first."
        )
    if draft and not repo.private:
        raise DoiNotAllowed(
            "Only a private repository's DOI is reserved as a draft; generate this one."
        )
    if repo.head_id is None:
        raise DoiNotAllowed(
            "This repository has no revision yet. Upload files first: a DOI names one revision."
        )
    existing = Doi.objects.live().versions().filter(revision_id=repo.head_id).first()
    if existing is not None:
        raise DoiNotAllowed(f"The current revision already has a DOI: {existing.doi}.")
    return repo.head


def _check_can_edit(doi: Doi, user) -> None:
    if not doi.repo.can_admin(user):
        raise DoiNotAllowed(
            "Only the repository's owner or an organization admin can edit a DOI's metadata."
        )
    if doi.discarded_at is not None:
        raise DoiNotAllowed("This DOI was discarded.")


def _check_quota(repo: Repo, user) -> None:
    """DoiNotAllowed, saying when to try again, once the repository or the user had as many
    version DOIs in the last day as DOI_QUOTA_PER_REPO_PER_DAY / DOI_QUOTA_PER_USER_PER_DAY
    allow: a DOI is permanent, so minting one per edit is refused."""
    minted = Doi.objects.live().versions()
    quotas = (
        (minted.filter(repo=repo), settings.DOI_QUOTA_PER_REPO_PER_DAY, "This repository"),
        (minted.filter(created_by=user), settings.DOI_QUOTA_PER_USER_PER_DAY, "You"),
    )
    for dois, limit, who in quotas:
        until = full_until(dois, "created_at", limit=limit, window=DAY)
        if until is not None:
            raise DoiNotAllowed(
                f"{who} got {limit} DOI{pluralize(limit)} in the last 24 hours, the most allowed: "
                f"DOIs are permanent, so give one to a version worth citing. You can generate "
                f"the next one {try_again(until)}."
            )


def _clean_creators(creators: list[dict]) -> list[dict]:
    if not creators:
        raise DoiMetadataError("creators", "Add at least one author.")
    cleaned = []
    for index, creator in enumerate(creators, start=1):
        try:
            cleaned.append(clean_creator(creator))
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise DoiMetadataError(
                f"creators[{index}].{field}", f"Author {index}: {' '.join(messages)}"
            ) from None
    return cleaned


def _clean_record(record: dict | None) -> dict:
    try:
        return clean_record(record or {})
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        label = RECORD_LABELS.get(field)
        message = " ".join(messages)
        raise DoiMetadataError(field, f"{label}: {message}" if label else message) from None


# How a citing work relates to the DOI, by the relation of its event (DataCite's ids; the
# "is-…-by" ones are said from the cited DOI's side).
CITING_HOW = {
    "cites": "cites it",
    "is-cited-by": "cites it",
    "references": "references it",
    "is-referenced-by": "references it",
    "is-supplement-to": "is a supplement to it",
    "is-supplemented-by": "is a supplement to it",
}


class DoiQuerySet(models.QuerySet["Doi"]):
    def update(self, **kwargs) -> int:
        """Raises the rows' ``row_version`` (see ``Doi.save``), ``bulk_update``'s too."""
        return super().update(**{"row_version": F("row_version") + 1, **kwargs})

    def named(self, name: str) -> DoiQuerySet:
        """The DOI called ``name``, in any case: on the index of ``doi_unique_ci`` (UPPER(doi)),
        on SQLite too, where ``doi__iexact`` would be a LIKE that reads the whole table."""
        return self.alias(doi_upper=Upper("doi")).filter(doi_upper=Upper(Value(name)))

    def leading_to(self, name: str) -> Doi | None:
        """The live DOI called ``name`` (in any case), with only what decides where
        ``/doi/<doi>`` leads: its name, kind, revision and state, and its repository's type,
        owner, name, visibility and removal (see ``doi.discovery.landing_path``). Anything
        else it is asked for is read on access. One query on ``doi_unique_ci``, compiled once per
        process: the ORM's compiling and building of a full row costs a redirect more than all
        the rest of its answer."""
        row = self.leading_row(name)
        return self.leading_from(row) if row is not None else None

    def leading_row(self, name: str) -> tuple | None:
        """``leading_to``'s row, as the database driver returns it (hashable: what is decided
        from it can be kept per row), or None."""
        rows = _LeadingTo.query.rows(name=name)
        return rows[0] if rows else None

    def leading_from(self, row: tuple) -> Doi:
        """The DOI of ``leading_row``'s ``row``."""
        return _LeadingTo.build(row)

    def live(self) -> DoiQuerySet:
        """DOIs that were not discarded (a discarded one never reached DataCite)."""
        return self.filter(discarded_at__isnull=True)

    def versions(self) -> DoiQuerySet:
        return self.filter(kind=Doi.Kind.VERSION)

    def concepts(self) -> DoiQuerySet:
        return self.filter(kind=Doi.Kind.CONCEPT)

    def for_repo(self, repo: Repo) -> DoiQuerySet:
        return self.filter(repo=repo)

    def latest_version_for(self, repo: Repo) -> Doi | None:
        return self.live().versions().filter(repo=repo).order_by("-number").first()

    def concept_for(self, repo: Repo) -> Doi | None:
        return self.live().concepts().filter(repo=repo).first()

    def with_outdated(self) -> DoiQuerySet:
        """Annotate so that ``doi.is_outdated`` costs no query per row."""
        newer = (
            Doi.objects.live()
            .versions()
            .filter(repo_id=OuterRef("repo_id"), number__gt=OuterRef("number"))
        )
        return self.annotate(newer_version_exists=Exists(newer))

    def unconfirmed(self, *, include_permanent: bool = False) -> DoiQuerySet:
        """DOIs with a change DataCite has not confirmed, whenever their next attempt is."""
        unconfirmed = self.live().exclude(pending_action="")
        if not include_permanent:
            unconfirmed = unconfirmed.filter(error_is_permanent=False)
        return unconfirmed.order_by("number")

    def due(self, *, include_permanent: bool = False, now=None) -> DoiQuerySet:
        """DOIs with a change DataCite has not confirmed, whose time to (re)try has come."""
        now = now or timezone.now()
        return self.unconfirmed(include_permanent=include_permanent).filter(
            Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
        )

    def with_last_retry(self) -> DoiQuerySet:
        """Annotate so that ``doi.retry_again_at`` costs no query per row."""
        last = (
            Event.objects.filter(doi_id=OuterRef("pk"), kind=Event.Kind.RETRIED)
            .order_by("-created_at")
            .values("created_at")[:1]
        )
        return self.annotate(last_retried_at=Subquery(last))

    # One filter per Doi.State, by the rules of the ``Doi.state`` property.

    def pending(self) -> DoiQuerySet:
        return self.live().filter(remote_state=Doi.RemoteState.NONE, error_is_permanent=False)

    def reserved(self) -> DoiQuerySet:
        return self.live().filter(remote_state=Doi.RemoteState.DRAFT)

    def drafts(self) -> DoiQuerySet:
        """Live DOIs meant to be drafts at DataCite (reserved, or their reservation still to
        be confirmed): what making the repository public publishes, or deleting it deletes
        (``Doi.is_draft`` says it of one DOI)."""
        return self.live().filter(
            Q(remote_state=Doi.RemoteState.DRAFT)
            | Q(remote_state=Doi.RemoteState.NONE, pending_action=Doi.Action.RESERVE)
        )

    def findable(self) -> DoiQuerySet:
        return self.live().filter(remote_state=Doi.RemoteState.FINDABLE)

    def hidden(self) -> DoiQuerySet:
        return self.live().filter(remote_state=Doi.RemoteState.REGISTERED)

    def failed(self) -> DoiQuerySet:
        return self.live().filter(remote_state=Doi.RemoteState.NONE, error_is_permanent=True)

    def discarded(self) -> DoiQuerySet:
        return self.filter(discarded_at__isnull=False)

    def at_datacite(self) -> DoiQuerySet:
        """Live DOIs DataCite holds (findable, hidden or drafts)."""
        return self.live().exclude(remote_state=Doi.RemoteState.NONE)

    def differing(self) -> DoiQuerySet:
        """DOIs whose record at DataCite differed from the hub's at the last comparison."""
        return self.at_datacite().exclude(remote_differences="")

    def store_usage(self, usage: dict[str, Usage]) -> int:
        """Keep what DataCite counted (``Registrar.usage``) on the findable DOIs among these; a
        concept DOI gets the total of its own counts and its findable versions'. Returns how
        many DOIs DataCite gave counts for."""
        findable = list(self.findable().only("doi", "kind", "concept_id"))
        now = timezone.now()
        counted = {d.pk: usage[d.doi.upper()] for d in findable if d.doi.upper() in usage}
        totals = dict(counted)
        for doi in findable:
            if doi.kind == Doi.Kind.VERSION and doi.concept_id in totals and doi.pk in counted:
                totals[doi.concept_id] = totals[doi.concept_id] + counted[doi.pk]
        for doi in findable:
            counts = totals.get(doi.pk, Usage())
            doi.citation_count, doi.view_count = counts.citations, counts.views
            doi.download_count, doi.counted_at = counts.downloads, now
        Doi.objects.bulk_update(
            findable,
            ["citation_count", "view_count", "download_count", "counted_at"],
            batch_size=1000,
        )
        return len(counted)

    def store_own_usage(self) -> int:
        """Sum the hub's own counts (``DoiUsageDay``) onto the live DOIs DataCite has among
        these: unique views and downloads since the first count; a concept DOI gets its own
        and its versions'. Returns how many DOIs were counted at all."""
        dois = list(self.at_datacite().only("kind", "concept_id"))
        sums = {
            row["doi"]: (row["views"], row["downloads"])
            for row in DoiUsageDay.objects.filter(doi__in=[d.pk for d in dois])
            .values("doi")
            .annotate(views=Sum("unique_investigations"), downloads=Sum("unique_requests"))
            .order_by()
        }
        totals = dict(sums)
        for doi in dois:
            if doi.kind == Doi.Kind.VERSION and doi.concept_id and doi.pk in sums:
                views, downloads = totals.get(doi.concept_id, (0, 0))
                totals[doi.concept_id] = (views + sums[doi.pk][0], downloads + sums[doi.pk][1])
        now = timezone.now()
        for doi in dois:
            doi.own_view_count, doi.own_download_count = totals.get(doi.pk, (0, 0))
            doi.own_counted_at = now
        Doi.objects.bulk_update(
            dois, ["own_view_count", "own_download_count", "own_counted_at"], batch_size=1000
        )
        return len(sums)

    def store_citing_works(
        self, registrar: Registrar, usage: dict[str, Usage]
    ) -> tuple[int, list[str]]:
        """Fetch the works citing each findable DOI among these that DataCite counted citations
        of (``usage``; the others have none, and cost no request), and keep them; a concept DOI
        lists its own and its versions'. A DOI whose fetch failed keeps its last list. Returns
        how many were fetched, and what failed, one "doi: reason" each."""
        findable = list(self.findable().only("doi", "kind", "concept_id", "citing_works"))
        own: dict[int, list[dict]] = {}
        fetched, failed = 0, []
        for doi in findable:
            if usage.get(doi.doi.upper(), Usage()).citations == 0:
                own[doi.pk] = []
                continue
            try:
                own[doi.pk] = [asdict(w) for w in registrar.citing_works(doi.doi)]
                fetched += 1
            except RegistrarError as exc:
                own[doi.pk] = doi.citing_works
                failed.append(f"{doi.doi}: {exc.message}")
        totals = {pk: list(works) for pk, works in own.items()}
        for doi in findable:
            if doi.kind == Doi.Kind.VERSION and doi.concept_id in totals:
                known = {w["identifier"].upper() for w in totals[doi.concept_id]}
                totals[doi.concept_id] += [
                    w for w in own[doi.pk] if w["identifier"].upper() not in known
                ]
        for doi in findable:
            doi.citing_works = totals[doi.pk]
        Doi.objects.bulk_update(findable, ["citing_works"], batch_size=1000)
        return fetched, failed

    def in_state(self, state: str) -> DoiQuerySet:
        """The DOIs whose ``state`` is ``state``, one of ``Doi.State``."""
        return {
            Doi.State.PENDING: self.pending,
            Doi.State.RESERVED: self.reserved,
            Doi.State.FINDABLE: self.findable,
            Doi.State.HIDDEN: self.hidden,
            Doi.State.FAILED: self.failed,
            Doi.State.DISCARDED: self.discarded,
        }[state]()

    def preview(
        self,
        *,
        repo: Repo,
        user,
        creators: list[dict],
        record: dict | None = None,
        draft: bool = False,
    ) -> dict:
        """The attributes ``mint`` would send for the repository's current revision.

        Allocates nothing: the DOI shown is the next likely name. Raises like ``mint``."""
        head = _check_can_mint(repo, user, draft=draft)
        _check_quota(repo, user)
        cleaned = _clean_creators(creators)
        numbers = DoiCounter.upcoming()
        record = _clean_record(record)
        *_, version = self._drafts(repo, head, user, cleaned, record, numbers=numbers, draft=draft)
        attributes = build_attributes(version)
        validate_attributes(attributes)
        if draft:
            attributes.pop("url", None)  # a draft resolves nowhere yet (see Doi.sent_attributes)
        return attributes

    def new_record(self, repo: Repo) -> dict:
        """The record fields a DOI of the repository's current revision starts with: what its
        card gives (for the form behind Generate DOI)."""
        return record_defaults(Doi(repo=repo, revision=repo.head, kind=Doi.Kind.VERSION))

    def mint(
        self,
        *,
        repo: Repo,
        user,
        creators: list[dict],
        consent_text: str,
        consent_version: str,
        record: dict | None = None,
        draft: bool = False,
    ) -> Doi:
        """Create the version DOI for the repository's current revision (and the concept DOI
        the first time) with the owner's record (``creators``, and ``record`` for the other
        fields, as in ``Doi.record``: the description, related works and funders), record the
        consent, and queue the registration.

        With ``draft`` (Reserve DOI, private repositories only) DataCite gets the DOIs as drafts:
        they resolve nowhere and do not lock the repository; making it public publishes them
        (``publish_drafts``) and deleting it deletes them (``delete_drafts``).

        Everything is checked under a lock on the repository row, so simultaneous requests
        produce one DOI. Raises DoiNotAllowed or DoiMetadataError; then nothing is created."""
        cleaned = _clean_creators(creators)
        record = _clean_record(record)
        with transaction.atomic():
            # NO KEY: a push inserting an Event that references the repository must not wait
            # for this lock while this transaction waits for that push (a deadlock).
            repo = Repo.objects.select_for_update(no_key=True).get(pk=repo.pk)
            head = _check_can_mint(repo, user, draft=draft)
            _check_quota(repo, user)
            earlier = list(self.live().versions().filter(repo=repo).order_by("number"))
            numbers = DoiCounter.allocations()
            new = self._drafts(repo, head, user, cleaned, record, numbers=numbers, draft=draft)
            _save_and_link(new, earlier)
            for doi in new:
                doi._store_metadata()
            version = new[-1]
            Consent.record(
                version,
                user=user,
                text=consent_text,
                text_version=consent_version,
                at=version.created_at,
            )
            for doi in new:
                doi._reserve(actor=user)
            outdated = self.filter(pk__in=[d.pk for d in _outdated_by(new, earlier)])
            # The version first: what the owner waits for. Its links to the concept and the
            # previous version need not be at DataCite yet; their updates go beside it.
            queue = [version.pk, *(d.pk for d in new[:-1]), *outdated.queue_link_updates()]
            transaction.on_commit(lambda: _enqueue(queue))
        return version

    def _drafts(
        self,
        repo: Repo,
        head: Revision,
        user,
        creators: list[dict],
        record: dict,
        *,
        numbers: Iterator[tuple[int, str]],
        draft: bool = False,
    ) -> list[Doi]:
        """The DOIs a mint creates, unsaved, in order: the concept DOI if the repository gets
        its first (or a new) one, then the version DOI. ``numbers`` hands out the (number, name)
        pairs: allocated when minting, the likely next ones for a preview."""
        now = timezone.now()
        fields = {
            "repo": repo,
            "created_by": user,
            "created_at": now,
            "pending_action": Doi.Action.RESERVE if draft else Doi.Action.PUBLISH,
            "next_attempt_at": now + WORKER_GRACE,
        }
        drafts = []
        concept = self.concept_for(repo)
        if concept is None and settings.DOI_CONCEPT_DOIS:
            number, name = next(numbers)
            concept = Doi(kind=Doi.Kind.CONCEPT, number=number, doi=name, **fields)
            drafts.append(concept)
        number, name = next(numbers)
        version = Doi(
            kind=Doi.Kind.VERSION,
            number=number,
            doi=name,
            revision=head,
            revision_oid=head.oid,
            concept=concept,
            creators=creators,
            # Without the owner's list, the links the card and CITATION.cff propose, kept as
            # they are now.
            record=record
            if "related_works" in record
            else {"related_works": proposed_related_works(repo, head), **record},
            **fields,
        )
        return [*drafts, version]

    def queue_link_updates(self, *, at_datacite_only: bool = False) -> list[int]:
        """Mark these DOIs to be pushed again, because their links to versions changed (one was
        minted or discarded), and return their ids for the caller to queue on commit. With
        ``at_datacite_only``, only those DataCite has already.

        Locked first: a push under way may have built its links before the change, so wait
        for it; then an idle DOI gets an update to push (a busy one's is cleared by then)."""
        # NO KEY: rows that reference these (events, a new version) can still be inserted.
        locked = list(self.select_for_update(no_key=True).only("pending_action", "remote_state"))
        if at_datacite_only:
            locked = [d for d in locked if d.remote_state != Doi.RemoteState.NONE]
        Doi.objects.filter(pk__in=[d.pk for d in locked if not d.pending_action]).update(
            pending_action=Doi.Action.UPDATE, next_attempt_at=timezone.now() + WORKER_GRACE
        )
        return [d.pk for d in locked]

    def publish_drafts(self, repo: Repo) -> None:
        """The repository went public: publish its drafts (their consent was given when they
        were reserved), which locks it from then on, as any DOI does."""
        with transaction.atomic():
            for doi in self.drafts().filter(repo=repo).select_for_update(no_key=True):
                doi.pending_action = Doi.Action.PUBLISH
                doi._lock()
                doi._queue()

    def delete_drafts(self, repo: Repo) -> None:
        """The repository was deleted: delete its drafts at DataCite (the only DOIs DataCite
        lets go). One whose reservation was never confirmed is deleted too, in case it came."""
        with transaction.atomic():
            for doi in self.drafts().filter(repo=repo).select_for_update(no_key=True):
                doi.pending_action = Doi.Action.DELETE
                doi._queue()

    def push(self, pk: int, *, registrar: Registrar | None = None, force: bool = False) -> Push:
        """Push the DOI's pending action to the registrar, and store what happened.

        The row stays locked meanwhile; a DOI another worker is pushing is skipped. A DOI whose
        last error was permanent is skipped unless ``force``."""
        registrar = registrar or get_registrar()
        with transaction.atomic():
            # NO KEY, so that reserving a new version (which references this row) is not held
            # up while the request to the registrar runs.
            # The rows the metadata is built from come along, unlocked.
            doi = (
                self.select_for_update(skip_locked=True, no_key=True, of=("self",))
                .select_related("repo", "revision", "concept")
                .filter(pk=pk)
                .first()
            )
            if (
                doi is None
                or doi.discarded_at is not None
                or not doi.pending_action
                or (doi.error_is_permanent and not force)
            ):
                return Push(Push.SKIPPED)
            return doi._push(registrar)


@dataclass(frozen=True)
class Push:
    """The outcome of one push to the registrar."""

    DONE: ClassVar[str] = "done"
    RETRY: ClassVar[str] = "retry"
    FAILED: ClassVar[str] = "failed"
    SKIPPED: ClassVar[str] = "skipped"

    outcome: str
    retry_after: float | None = None


def _holds(theirs, ours) -> bool:
    """Whether DataCite's value holds what the hub sent: DataCite adds keys of its own and
    writes numbers as numbers, so only what was sent is compared."""
    if isinstance(ours, dict):
        return isinstance(theirs, dict) and all(_holds(theirs.get(k), v) for k, v in ours.items())
    if isinstance(ours, list):
        return (
            isinstance(theirs, list)
            and len(theirs) == len(ours)
            and all(_holds(t, o) for t, o in zip(theirs, ours, strict=True))
        )
    if ours in (None, ""):
        return theirs in (None, "")
    return theirs is not None and str(theirs) == str(ours)


def _enqueue(ids: list[int]) -> None:
    from doi.tasks import push_all

    push_all(ids)


def _save_and_link(new: list[Doi], earlier: list[Doi]) -> None:
    """Save the drafts of a mint in order. A new concept DOI gathers the earlier versions: they
    may name a discarded concept, or none."""
    for doi in new:
        doi.save(force_insert=True)
        if doi.is_concept:
            Doi.objects.filter(pk__in=[d.pk for d in earlier]).update(concept=doi)


def _outdated_by(new: list[Doi], earlier: list[Doi]) -> list[Doi]:
    """The DOIs whose links at DataCite a mint changes: the previous version gets
    IsPreviousVersionOf, the concept HasVersion (and, for a new concept, every earlier
    version IsVersionOf)."""
    concept = new[-1].concept
    if concept in new:
        return earlier
    return earlier[-1:] + ([concept] if concept is not None else [])


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
        DRAFT = "draft", "Draft (reserved, does not resolve)"
        FINDABLE = "findable", "Findable"
        REGISTERED = "registered", "Registered (hidden)"

    class Action(models.TextChoices):
        NONE = "", "Nothing to do"
        PUBLISH = "publish", "Publish"
        RESERVE = "reserve", "Reserve as a draft"
        DELETE = "delete", "Delete the draft"
        UPDATE = "update", "Update metadata"
        HIDE = "hide", "Hide"

    class State(models.TextChoices):
        """Where the DOI stands (``Doi.state``); ``DoiQuerySet`` filters each one."""

        PENDING = "pending", "Registration in progress"
        RESERVED = "reserved", "Reserved (draft: does not resolve yet)"
        FINDABLE = "findable", "Findable"
        HIDDEN = "hidden", "Hidden"
        FAILED = "failed", "Registration failed"
        DISCARDED = "discarded", "Discarded"

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
    # The owner's record (see doi.metadata): the authors, and the other fields they set.
    creators = models.JSONField(
        default=list,
        blank=True,
        help_text="The authors the owner confirmed; a concept DOI without its own has its "
        "latest version's.",
    )
    record = models.JSONField(
        default=dict,
        blank=True,
        help_text="The other fields the owner set (e.g. description); each one present replaces "
        "what the model card gives.",
    )
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
    remote_differences = models.CharField(
        max_length=255,
        blank=True,
        help_text="The attributes DataCite held differently from the hub at the last "
        "comparison (manage.py doi_sync --compare); empty when they matched.",
    )
    differs_since = models.DateTimeField(null=True, blank=True)
    discarded_at = models.DateTimeField(
        null=True, blank=True, help_text="A DOI that never reached DataCite and was given up."
    )
    # What DataCite counted (manage.py doi_sync --counts); a concept DOI holds the total of its
    # own and its versions'.
    citation_count = models.PositiveIntegerField(default=0)
    view_count = models.PositiveIntegerField(default=0)
    download_count = models.PositiveIntegerField(default=0)
    counted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the counts were last fetched from DataCite."
    )
    # The works DataCite's event data says cite this DOI (a concept: or any of its versions),
    # as ``doi.registrars.CitingWork`` fields: identifier (a DOI or URL), relation, occurred_at.
    citing_works = models.JSONField(default=list, blank=True)
    # The hub's own counts (``doi.usage``), summed from ``DoiUsageDay`` by doi_sync --counts, so
    # that pages read them with the row: unique views (investigations) and unique downloads
    # (requests), both access methods; a concept DOI holds its own and its versions'.
    own_view_count = models.PositiveIntegerField(default=0)
    own_download_count = models.PositiveIntegerField(default=0)
    own_counted_at = models.DateTimeField(
        null=True, blank=True, help_text="When the hub's own counts were last summed."
    )
    # Raised by one on every change to the row, by the database itself (``save`` and
    # ``DoiQuerySet``'s bulk paths), so that concurrent writers never give two contents the same
    # number: what a cached page showing the row is keyed on, without reading the row's
    # documents. A change made outside the ORM must raise it too.
    row_version = models.PositiveBigIntegerField(default=0, editable=False)

    objects = DoiQuerySet.as_manager()

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
        indexes = [
            models.Index(fields=["repo", "-number"]),
            # A repository's concept DOI, or its latest version, in one step however many
            # versions it has: as PostgreSQL runs a page's prepared query (a generic plan, the
            # kind a parameter), the live concept's unique index does not apply, and the one
            # above would walk every version down to the concept.
            models.Index(fields=["repo", "kind", "-number"], name="doi_repo_kind_newest"),
            # The highest number in use (``DoiCounter.allocate``) without reading every row.
            models.Index(fields=["number"], name="doi_number"),
        ]
        ordering = ["-number"]
        permissions = [
            ("retry_doi", "Can retry a DOI's registration or re-send its metadata"),
            ("discard_doi", "Can discard a DOI that DataCite never got"),
        ]

    def __str__(self) -> str:
        return self.doi

    def save(self, *args, update_fields=None, **kwargs) -> None:
        if not self._state.adding and (update_fields is None or update_fields):
            # In the UPDATE itself, read back with RETURNING: two writers each get their own.
            self.row_version = F("row_version") + 1
            if update_fields is not None:
                update_fields = [*update_fields, "row_version"]
        super().save(*args, update_fields=update_fields, **kwargs)

    # Display ------------------------------------------------------------------------------------

    @property
    def state(self) -> State:
        """Only DataCite's word makes a DOI findable. ``Doi.objects.pending()`` and its siblings
        filter by the same rules."""
        if self.discarded_at is not None:
            return self.State.DISCARDED
        if self.remote_state == self.RemoteState.FINDABLE:
            return self.State.FINDABLE
        if self.remote_state == self.RemoteState.REGISTERED:
            return self.State.HIDDEN
        if self.remote_state == self.RemoteState.DRAFT:
            return self.State.RESERVED
        return self.State.FAILED if self.error_is_permanent else self.State.PENDING

    @property
    def at_datacite(self) -> bool:
        """DataCite has this DOI (findable or hidden), so doi.org resolves it."""
        return self.state in (self.State.FINDABLE, self.State.HIDDEN)

    @property
    def is_draft(self) -> bool:
        """Meant to be a draft at DataCite (reserved, or its reservation still to be
        confirmed): ``Doi.objects.drafts()`` filters by the same rule."""
        if self.discarded_at is not None:
            return False
        if self.remote_state == self.RemoteState.NONE:
            return self.pending_action == self.Action.RESERVE
        return self.remote_state == self.RemoteState.DRAFT

    @property
    def is_unpublished_draft(self) -> bool:
        """Reserved as a draft and not being published: DataCite holds it as a draft (or is yet
        to, or is to delete it with its repository), so it resolves nowhere, and what it names
        may be private. ``/doi/<doi>`` shows only that it is reserved."""
        if self.discarded_at is not None:
            return False
        if self.pending_action in (self.Action.RESERVE, self.Action.DELETE):
            return True
        return self.remote_state == self.RemoteState.DRAFT and (
            self.pending_action != self.Action.PUBLISH
        )

    @property
    def update_pending(self) -> bool:
        """DataCite has this DOI, and a change to it is still to be pushed."""
        return self.at_datacite and bool(self.pending_action) and not self.error_is_permanent

    @property
    def update_failed(self) -> bool:
        """DataCite has this DOI, but pushing a change to it failed for good."""
        return self.at_datacite and self.error_is_permanent

    @property
    def state_label(self) -> str:
        label = self.state.label
        if self.update_failed:
            return f"{label} — update failed"
        if self.update_pending:
            return f"{label} — update pending"
        return label

    @property
    def problem(self) -> str:
        """The last push's failure in one plain sentence: what happened and what happens
        next (and when), or "" when nothing went wrong."""
        if not self.last_error:
            return ""
        if self.error_is_permanent:
            return f"{self.last_error}, so the hub has stopped trying until someone retries."
        now = timezone.now()
        if self.next_attempt_at is None or self.next_attempt_at <= now:
            return f"{self.last_error}, so the hub is trying again now."
        when = timezone.localtime(self.next_attempt_at)
        at = date_format(when, "H:i T")
        if when.date() != timezone.localtime(now).date():
            at = f"{at} on {date_format(when, 'j F')}"
        return f"{self.last_error}, so the hub will try again automatically at {at}."

    @property
    def waiting_to_retry(self) -> bool:
        """A transient failure whose next automatic attempt is still to come (Retry now skips
        the wait)."""
        return (
            bool(self.pending_action and self.last_error)
            and not self.error_is_permanent
            and self.next_attempt_at is not None
            and self.next_attempt_at > timezone.now()
        )

    @property
    def retry_again_at(self) -> datetime | None:
        """While a retry asked for less than RETRY_INTERVAL ago holds off the next one: when
        that may be asked for."""
        if "last_retried_at" in self.__dict__:
            last = self.last_retried_at
        else:
            last = (
                self.events.filter(kind=Event.Kind.RETRIED)
                .order_by("-created_at")
                .values_list("created_at", flat=True)
                .first()
            )
        if last is None or last + RETRY_INTERVAL <= timezone.now():
            return None
        return last + RETRY_INTERVAL

    @property
    def can_retry(self) -> bool:
        """Whether a person may ask for the outstanding change to be pushed again now."""
        return self.discarded_at is None and (self.error_is_permanent or self.waiting_to_retry)

    @property
    def usage(self) -> Usage | None:
        """What DataCite counted, once it was asked (a concept: with its versions)."""
        if self.counted_at is None:
            return None
        return Usage(self.citation_count, self.view_count, self.download_count)

    @property
    def own_usage(self) -> OwnUsage | None:
        """What the hub itself counted, once summed (a concept: with its versions)."""
        if self.own_counted_at is None:
            return None
        return OwnUsage(self.own_view_count, self.own_download_count)

    @property
    def citing(self) -> list[dict]:
        """The works citing this DOI (``citing_works``) as pages list them: ``text``, ``url``,
        ``how`` it cites this one, and ``when`` (the event's date)."""
        out = []
        for work in self.citing_works:
            identifier = work.get("identifier", "")
            is_doi = identifier.startswith("10.")
            out.append(
                {
                    "text": f"doi:{identifier}" if is_doi else identifier,
                    "url": f"https://doi.org/{identifier}" if is_doi else identifier,
                    "how": CITING_HOW.get(work.get("relation", ""), "cites it"),
                    "when": work.get("occurred_at", ""),
                }
            )
        return out

    @property
    def is_concept(self) -> bool:
        return self.kind == self.Kind.CONCEPT

    @property
    def is_outdated(self) -> bool:
        """A version DOI that is not the repository's latest live version."""
        if self.kind != self.Kind.VERSION or self.discarded_at is not None:
            return False
        if "newer_version_exists" in self.__dict__:
            return self.newer_version_exists
        return (
            Doi.objects.live()
            .versions()
            .filter(repo_id=self.repo_id, number__gt=self.number)
            .exists()
        )

    @property
    def lock_holder(self) -> str:
        """How this DOI names itself in the repository's locks."""
        return f"doi:{self.doi}"

    @property
    def cache_version(self) -> str:
        """Changes whenever anything stored on this row changes (its state, its metadata, …):
        the key of what is rendered from it, such as its citations (see ``hubsite.caching``)."""
        values = repr(tuple(getattr(self, f.attname) for f in self._meta.concrete_fields))
        return hashlib.md5(values.encode(), usedforsecurity=False).hexdigest()

    # Minting (the steps of ``Doi.objects.mint``) ---------------------------------------------

    def _store_metadata(self) -> None:
        """Build and check the DataCite attributes, and keep them on the row."""
        self.metadata = build_attributes(self)
        validate_attributes(self.metadata)
        self.save(update_fields=["metadata"])

    def _reserve(self, *, actor) -> None:
        """A promised DOI holds the repository as it is, even before DataCite has it (a draft
        promises nothing yet: it locks once published); the trail records who reserved it."""
        if self.pending_action != self.Action.RESERVE:
            self._lock()
        Event.objects.create(
            kind=Event.Kind.RESERVED,
            doi=self,
            repo=self.repo,
            actor=actor,
            created_at=self.created_at,
            message="" if self.is_concept else f"Revision {self.revision.short_oid}",
        )

    def _lock(self) -> None:
        RepoLock.objects.create(repo=self.repo, reason=LOCK_REASON, holder=self.lock_holder)

    # The owner's record, edited after minting -----------------------------------------------

    @property
    def record_creators(self) -> list[dict]:
        """The authors as they stand: the DOI's own, or a concept DOI's latest version's."""
        if self.creators or not self.is_concept:
            return self.creators
        latest = Doi.objects.latest_version_for(self.repo)
        return latest.creators if latest else []

    def record_defaults(self) -> dict:
        """The other record fields as they stand (``doi.metadata.record_defaults``)."""
        return record_defaults(self)

    def with_record(self, *, creators: list[dict], record: dict) -> Doi:
        """An unsaved copy of this DOI with the owner's record replaced."""
        draft = copy.copy(self)
        draft.creators, draft.record = creators, record
        return draft

    def new_people(self, creators: list[dict]) -> list[str]:
        """The names of the people in ``creators`` (cleaned) who are not in the record yet, by
        ORCID iD or by name: their names need the owner's acknowledgement to go to DataCite."""
        known = self.record_creators
        orcids = {c["orcid"] for c in known if c.get("orcid")}
        names = {" ".join(c["name"].split()).casefold() for c in known}
        return [
            c["name"]
            for c in creators
            if c["type"] == "Personal"
            and not (c["orcid"] and c["orcid"] in orcids)
            and " ".join(c["name"].split()).casefold() not in names
        ]

    def preview_edit(self, *, user, creators: list[dict], record: dict) -> dict:
        """The attributes ``edit`` would send. Raises like ``edit``."""
        _check_can_edit(self, user)
        draft = self.with_record(creators=_clean_creators(creators), record=_clean_record(record))
        attributes = build_attributes(draft)
        validate_attributes(attributes)
        return attributes

    def edit(
        self,
        *,
        user,
        creators: list[dict],
        record: dict,
        consent_text: str = "",
        consent_version: str = "",
    ) -> list[str]:
        """Replace the owner's record (authors and the other fields), and queue the update at
        DataCite: a PUT of the same DOI without an event, so its state stays as it is. People
        new to the record need the consent (``consent_text``), stored like a mint's. The trail
        records who changed what; returns those changes (none: nothing is stored or sent)."""
        cleaned, cleaned_record = _clean_creators(creators), _clean_record(record)
        with transaction.atomic():
            doi = self._locked()
            _check_can_edit(doi, user)
            new_people = doi.new_people(cleaned)
            if new_people and not consent_text:
                raise DoiNotAllowed(
                    f"Acknowledge that the names of {', '.join(new_people)} will be "
                    "transferred to DataCite and published."
                )
            before = doi.metadata
            doi._store_record(cleaned, cleaned_record)
            after = build_attributes(doi)
            validate_attributes(after)
            changes = record_changes(before, after)
            if not changes:
                return []
            doi.metadata = after
            doi.save(update_fields=["creators", "record", "metadata"])
            if new_people:
                Consent.record(doi, user=user, text=consent_text, text_version=consent_version)
            doi._make_pending()
            doi._queue()
            if doi.kind == Doi.Kind.VERSION and doi.concept_id and not doi.is_outdated:
                # The concept DOI takes what it does not hold itself from its latest version.
                concept = Doi.objects.live().filter(pk=doi.concept_id).queue_link_updates()
                transaction.on_commit(lambda: _enqueue(concept))
            Event.objects.create(
                kind=Event.Kind.EDITED,
                doi=doi,
                repo_id=doi.repo_id,
                actor=user,
                message="\n".join(changes),
            )
        self.refresh_from_db()
        return changes

    def _store_record(self, creators: list[dict], record: dict) -> None:
        """Set the record; a concept DOI keeps only what differs from its latest version's,
        so that the rest goes on following the versions."""
        if self.is_concept:
            inherited = self.with_record(creators=[], record={})
            if creators == inherited.record_creators:
                creators = []
            defaults = inherited.record_defaults()
            record = {k: v for k, v in record.items() if v != defaults.get(k)}
        self.creators, self.record = creators, record

    # Changes ------------------------------------------------------------------------------------

    def retry(self, actor=None) -> None:
        """Queue the outstanding change again, after a failure someone has looked at, without
        waiting for the next automatic attempt. Refused (DoiNotAllowed, saying when it may be
        asked again) within RETRY_INTERVAL of the last retry."""
        with transaction.atomic():
            doi = self._locked()
            doi._check_retry_interval()
            doi._make_pending()
            message = f"After: {doi.problem}" if doi.last_error else ""
            doi._queue()
            Event.objects.create(
                kind=Event.Kind.RETRIED, doi=doi, repo_id=doi.repo_id, actor=actor, message=message
            )
        self.refresh_from_db()

    def _check_retry_interval(self) -> None:
        if self.retry_again_at is None:
            return
        again = date_format(timezone.localtime(self.retry_again_at), "H:i:s T")
        raise DoiNotAllowed(
            f"{self.doi} was retried less than a minute ago; it can be retried again at {again}."
        )

    def compare(self, registrar: Registrar) -> list[str]:
        """Ask DataCite for its record and store which of the attributes the hub last sent it
        holds differently (someone changed them in DataCite's Fabrica, or a push was lost).
        Raises RegistrarError when DataCite cannot be asked."""
        theirs = registrar.get(self.doi) or {}
        differences = [
            key
            for key, ours in self.metadata.items()
            if key != "doi" and not _holds(theirs.get(key), ours)
        ]
        self.remote_differences = ", ".join(differences)[:255]
        if not differences:
            self.differs_since = None
        elif self.differs_since is None:
            self.differs_since = timezone.now()
        self.save(update_fields=["remote_differences", "differs_since"])
        return differences

    def _make_pending(self) -> None:
        """With nothing outstanding: publish what DataCite lacks, else update what it has."""
        if not self.pending_action:
            self.pending_action = (
                self.Action.PUBLISH
                if self.remote_state == self.RemoteState.NONE
                else self.Action.UPDATE
            )

    def resend_metadata(self, actor=None) -> None:
        """Send the metadata, rebuilt from current data, to DataCite again."""
        with transaction.atomic():
            doi = self._locked()
            # A publish or hide still outstanding sends the metadata along anyway.
            doi._make_pending()
            doi._queue()
            Event.objects.create(
                kind=Event.Kind.RETRIED,
                doi=doi,
                repo_id=doi.repo_id,
                actor=actor,
                message="Re-sending the metadata to DataCite.",
            )
        self.refresh_from_db()

    def hide(self) -> None:
        """Make the DOI registered but not findable at DataCite (it keeps resolving). The
        HIDDEN event is written when DataCite confirms; whoever asked records their own."""
        self._want(self.Action.HIDE, unless=self.RemoteState.REGISTERED)

    def show(self) -> None:
        """Make a hidden DOI findable again (SHOWN is written when DataCite confirms)."""
        self._want(self.Action.PUBLISH, unless=self.RemoteState.FINDABLE)

    def _want(self, action: str, *, unless: str) -> None:
        """Queue ``action``, unless DataCite already holds the DOI in state ``unless`` and
        nothing else is pending."""
        with transaction.atomic():
            doi = self._locked()
            if doi.remote_state != unless or doi.pending_action:
                doi.pending_action = action
                doi._queue()
        self.refresh_from_db()

    def discard(self, actor=None) -> None:
        """Give up a DOI that never reached DataCite. Refused for any DOI DataCite has: those
        are permanent. DataCite is asked first, in case a request did arrive unconfirmed."""
        with transaction.atomic():
            doi = self._locked()
            if doi.remote_state != self.RemoteState.NONE:
                raise DoiNotAllowed(
                    "DataCite has this DOI, and DOIs there are permanent: it cannot be "
                    "discarded. Hide it instead."
                )
            try:
                remote = get_registrar().get(doi.doi)
            except RegistrarError as exc:
                raise DoiNotAllowed(
                    "The DOI was kept because the hub could not check that DataCite does not "
                    f"have it ({exc.message}); try discarding it again later."
                ) from None
            registered = (self.RemoteState.FINDABLE, self.RemoteState.REGISTERED)
            found = remote is not None and remote.get("state") in registered
            if found:
                # Learnt the hard way: a request did arrive. Keep that, and refuse below.
                doi.remote_state = remote["state"]
                doi.save(update_fields=["remote_state"])
            else:
                doi._discard(actor)
        self.refresh_from_db()
        if found:
            raise DoiNotAllowed("DataCite does have this DOI after all, so it cannot be discarded.")

    def _discard(self, actor) -> None:
        """Mark discarded (call with the row locked), release its lock on the repository, and
        have the neighbours at DataCite stop pointing at it."""
        self.discarded_at = timezone.now()
        self.pending_action = self.Action.NONE
        self.next_attempt_at = None
        self.save(update_fields=["discarded_at", "pending_action", "next_attempt_at"])
        Event.objects.create(kind=Event.Kind.DISCARDED, doi=self, repo_id=self.repo_id, actor=actor)
        # The lock goes with the promise; any other DOI of the repository still holds its own.
        RepoLock.objects.filter(repo_id=self.repo_id, holder=self.lock_holder).delete()
        neighbours = Doi.objects.live().filter(repo_id=self.repo_id).exclude(pk=self.pk)
        queue = neighbours.queue_link_updates(at_datacite_only=True)
        transaction.on_commit(lambda: _enqueue(queue))

    # Pushing to the registrar --------------------------------------------------------------

    def _push(self, registrar: Registrar) -> Push:
        action = self.pending_action
        if action == self.Action.DELETE:
            return self._delete_draft(registrar)
        event = self._event_for(action)
        try:
            attributes = self.sent_attributes(event)
        except DoiMetadataError as exc:
            return self._failed(
                RegistrarError(
                    f"The DOI's details are not valid ({exc.message.rstrip('.')})", permanent=True
                )
            )
        try:
            answer = registrar.upsert(self.doi, attributes, event)
        except RegistrarError as exc:
            return self._failed(exc)
        # A registrar that does not say (the sandbox) leaves the state as it was; a DOI created
        # without an event is a draft.
        none, draft = self.RemoteState.NONE, self.RemoteState.DRAFT
        state = answer.get("state") or (draft if self.remote_state == none else self.remote_state)
        wanted = self._states_after(event)
        if state not in wanted:
            return self._failed(
                RegistrarError(
                    f"DataCite answered, but the DOI is “{state}” there instead of “{wanted[0]}”",
                    permanent=False,
                )
            )
        return self._succeeded(action, state, attributes, registrar)

    def sent_attributes(self, event: str | None) -> dict:
        """The attributes a push with ``event`` sends, built from current data and checked. A
        draft gets no URL: it resolves nowhere until it is published."""
        attributes = build_attributes(self)
        # What is stored was checked before it was stored (minted, edited or sent): once is
        # enough for each version of the metadata.
        if attributes != self.metadata:
            validate_attributes(attributes)
        if event is None and self.remote_state in (self.RemoteState.NONE, self.RemoteState.DRAFT):
            attributes.pop("url", None)
        return attributes

    def _states_after(self, event: str | None) -> tuple[str, ...]:
        """The states DataCite may answer with after a push with ``event``."""
        findable, registered = self.RemoteState.FINDABLE, self.RemoteState.REGISTERED
        if event:
            return ({"publish": findable, "register": registered, "hide": registered}[event],)
        if self.remote_state in (self.RemoteState.NONE, self.RemoteState.DRAFT):
            return (self.RemoteState.DRAFT,)
        return (findable, registered)

    def _delete_draft(self, registrar: Registrar) -> Push:
        """DELETE the draft at DataCite (gone already counts as done), then discard it here."""
        try:
            registrar.delete(self.doi)
        except RegistrarError as exc:
            return self._failed(exc)
        self.remote_state = self.RemoteState.NONE
        self.discarded_at = timezone.now()
        self.pending_action = self.Action.NONE
        self.attempts, self.last_error, self.error_is_permanent = 0, "", False
        self.next_attempt_at = None
        self.save()
        Event.objects.create(
            kind=Event.Kind.DELETED,
            doi=self,
            repo_id=self.repo_id,
            message=f"{registrar.name}: the draft was deleted with the repository.",
        )
        return Push(Push.DONE)

    def _event_for(self, action: str) -> str | None:
        """The DataCite event that brings the DOI where ``action`` wants it."""
        remote = self.remote_state
        if action == self.Action.RESERVE:
            return None  # no event: DataCite keeps it a draft
        if action == self.Action.HIDE:
            if remote == self.RemoteState.REGISTERED:
                return None
            return "hide" if remote == self.RemoteState.FINDABLE else "register"
        if action == self.Action.PUBLISH or remote == self.RemoteState.NONE:
            # An update of a DOI that never reached DataCite must create it findable.
            return "publish"
        return None

    def _succeeded(self, action: str, state: str, attributes: dict, registrar) -> Push:
        now = timezone.now()
        before = self.remote_state
        if action == self.Action.HIDE:
            kind = Event.Kind.HIDDEN
        elif state == self.RemoteState.DRAFT:
            kind = Event.Kind.DRAFTED if before == self.RemoteState.NONE else Event.Kind.UPDATED
        elif before in (self.RemoteState.NONE, self.RemoteState.DRAFT):
            kind = Event.Kind.MINTED
        elif before == self.RemoteState.REGISTERED and state == self.RemoteState.FINDABLE:
            kind = Event.Kind.SHOWN
        else:
            kind = Event.Kind.UPDATED
        self.remote_state = state
        self.metadata = attributes
        self.pending_action = self.Action.NONE
        self.attempts = 0
        self.last_error = ""
        self.error_is_permanent = False
        self.next_attempt_at = None
        if state != self.RemoteState.DRAFT:
            self.registered_at = self.registered_at or now
        self.last_synced_at = now
        self.remote_differences, self.differs_since = "", None  # DataCite has ours now
        self.save()
        Event.objects.create(
            kind=kind,
            doi=self,
            repo_id=self.repo_id,
            created_at=now,
            message=f"{registrar.name}: {self.get_remote_state_display().lower()}.",
        )
        return Push(Push.DONE)

    def _failed(self, error: RegistrarError) -> Push:
        now = timezone.now()
        self.attempts += 1
        self.last_error = error.message
        self.error_is_permanent = error.permanent
        if error.permanent:
            self.next_attempt_at = None
            kind = Event.Kind.FAILED
        else:
            backoff = min(RETRY_BASE * 2 ** (self.attempts - 1), RETRY_MAX)
            if error.retry_after is not None:
                backoff = timedelta(seconds=error.retry_after)
            self.next_attempt_at = now + backoff
            kind = Event.Kind.RETRYING
        self.save(update_fields=["attempts", "last_error", "error_is_permanent", "next_attempt_at"])
        Event.objects.create(
            kind=kind, doi=self, repo_id=self.repo_id, created_at=now, message=self.problem
        )
        if error.permanent:
            return Push(Push.FAILED)
        return Push(Push.RETRY, retry_after=error.retry_after)

    def _locked(self) -> Doi:
        doi = Doi.objects.select_for_update().get(pk=self.pk)
        if doi.discarded_at is not None:
            raise DoiNotAllowed("This DOI was discarded.")
        return doi

    def _queue(self) -> None:
        """Save the pending action with a clean slate, and push it once the transaction commits."""
        self.attempts = 0
        self.last_error = ""
        self.error_is_permanent = False
        self.next_attempt_at = timezone.now() + WORKER_GRACE
        self.save(
            update_fields=[
                "pending_action",
                "attempts",
                "last_error",
                "error_is_permanent",
                "next_attempt_at",
            ]
        )
        pk = self.pk
        transaction.on_commit(lambda: _enqueue([pk]))


class Consent(models.Model):
    """What the owner agreed to before a DOI was minted, or before an edit sent new people's
    names: who, when, which text, what was sent."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    repo = models.ForeignKey(Repo, on_delete=models.PROTECT, related_name="doi_consents")
    revision_oid = models.CharField(max_length=40)
    doi = models.ForeignKey(Doi, on_delete=models.PROTECT, related_name="consents")
    text_version = models.CharField(max_length=20)
    text = models.TextField()
    payload = models.JSONField(help_text="The exact DataCite attributes shown and sent.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user} for {self.doi} ({self.created_at:%Y-%m-%d})"

    @classmethod
    def record(
        cls, doi: Doi, *, user, text: str, text_version: str, at: datetime | None = None
    ) -> Consent:
        """``user`` agreed to ``text`` (at ``at``, else now) before ``doi`` was minted, or
        edited, with its metadata."""
        return cls.objects.create(
            user=user,
            repo=doi.repo,
            revision_oid=doi.revision_oid,
            doi=doi,
            text_version=text_version,
            text=text,
            payload=doi.metadata,
            created_at=at or timezone.now(),
        )


class Event(models.Model):
    """The audit trail of DOIs: every DOI event, with actor and time."""

    class Kind(models.TextChoices):
        RESERVED = "reserved", "Reserved"
        DRAFTED = "drafted", "Reserved at DataCite as a draft"
        MINTED = "minted", "Registered at DataCite"
        EDITED = "edited", "Metadata edited"
        UPDATED = "updated", "Metadata updated at DataCite"
        FAILED = "failed", "Registration failed"
        RETRYING = "retrying", "Retry scheduled"
        RETRIED = "retried", "Retry requested"
        HIDDEN = "hidden", "Hidden at DataCite"
        SHOWN = "shown", "Shown again at DataCite"
        DISCARDED = "discarded", "Discarded"
        DELETED = "deleted", "Draft deleted at DataCite"

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


@dataclass(frozen=True)
class OwnUsage:
    """What the hub counted for a DOI (``doi.usage``): unique views and unique downloads."""

    views: int = 0
    downloads: int = 0


class DoiUsageDay(models.Model):
    """The hub's own COUNTER counts of one DOI on one day by one access method (``doi.usage``):
    investigations are the DOI's page answered to a person and downloads of its files, requests
    are the downloads. Aggregates only: nothing about who asked is kept."""

    class AccessMethod(models.TextChoices):
        # COUNTER's two: a person at the site's pages, or a program (the Hub API's downloads).
        REGULAR = "regular", "Regular (the site)"
        MACHINE = "machine", "Machine (the API)"

    doi = models.ForeignKey(Doi, on_delete=models.CASCADE, related_name="usage_days")
    day = models.DateField()
    access_method = models.CharField(
        max_length=7, choices=AccessMethod.choices, default=AccessMethod.REGULAR
    )
    total_investigations = models.PositiveIntegerField(default=0)
    unique_investigations = models.PositiveIntegerField(default=0)
    total_requests = models.PositiveIntegerField(default=0)
    unique_requests = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["doi", "day", "access_method"], name="doi_usage_day_method_unique"
            ),
        ]
        permissions = [
            ("download_usage_report", "Can download the hub's own usage report (COUNTER DSR)"),
        ]

    def __str__(self) -> str:
        return f"{self.doi} on {self.day} ({self.access_method})"
