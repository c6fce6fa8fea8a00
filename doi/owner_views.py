"""The owner's side of DOIs: the DOI section of a repository's settings, the acknowledgement
form behind Generate DOI / Generate new DOI, Edit metadata, and Retry / Retry now."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from doi import citation_file
from doi.forms import (
    CONSENT_POINTS,
    CONSENT_TEXT,
    CONSENT_VERSION,
    EDIT_CONSENT_VERSION,
    PERSONAL,
    RESERVE_CONSENT_POINTS,
    RESERVE_CONSENT_TEXT,
    AcknowledgeForm,
    EditAcknowledgeForm,
    RecordForms,
    author_rows,
    edit_author_rows,
    edit_consent_text,
    edit_record_rows,
    focus_after,
    is_record_row_action,
    record_focus,
    submitted_record,
)
from doi.metadata import DoiMetadataError
from doi.models import Doi, DoiNotAllowed, Event
from doi.registrars import DataCiteRegistrar, get_registrar
from doi.related import describe
from hubsite import caching
from hubsite.http import HtmxHttpRequest
from hubsite.queries import STAND_IN_ID, Prepared
from repos.models import Repo, Revision
from repos.pages import header_context, repo_admin_view

# The DOIs of a repository's DOI section, newest first, compiled once per process (see
# hubsite.queries). Without the JSON documents (authors, record, DataCite attributes, citing
# works): an item shows none of them, so the rest of its row as stored is what it is rendered
# from (``Item.key``), and a page of fifty DOIs decodes none.
_SECTION_DOIS = Prepared(
    lambda repo: (
        Doi.objects.filter(repo_id=repo)
        .live()
        .with_outdated()
        .with_last_retry()
        .defer("creators", "record", "metadata", "citing_works")
        .order_by("-number")
    ),
    repo=STAND_IN_ID,
)
_ITEM_COLUMNS = ("kind", "last_error", "error_is_permanent")
SECTION_TEMPLATE = "doi/owner/_section.html"
ITEM_TEMPLATE = "doi/owner/_doi_item.html"
FORM_TEMPLATE = "doi/owner/generate.html"
EDIT_TEMPLATE = "doi/owner/edit.html"
PREVIEW_TEMPLATE = "doi/owner/_preview.html"
LOCKED_NOTE = (
    "Deleting, renaming or moving this repository, or changing its visibility, now needs a "
    "support request."
)


@dataclass
class Item:
    """One DOI of the section as read: its row, and the cache key of its HTML (made of the row
    as the database returned it, see ``_SECTION_DOIS``); once any process rendered it, that HTML
    and what the section needs to know of its state, so that a cached one builds no ``Doi``."""

    row: tuple
    kind: str
    failing: bool  # an error: rendered on every request (when to retry, a CSRF token)
    key: str
    cached: tuple[str, bool, bool] | None = None  # HTML, in progress, a draft
    doi: Doi | None = None  # built from the row where needed

    @property
    def in_progress(self) -> bool:
        """Registering or updating at DataCite: the section polls until it is done."""
        if self.cached:
            return self.cached[1]
        return self.doi.state == Doi.State.PENDING or self.doi.update_pending

    @property
    def is_draft(self) -> bool:
        return self.cached[2] if self.cached else self.doi.is_draft


@dataclass
class Panel:
    """What the DOI section shows for a repository, and which action it offers."""

    repo: Repo
    items: list[Item]  # versions newest first, then the concept DOI
    latest: Doi | None
    offer: str  # generate | generate-new | reserve | current | empty
    polling: bool

    @classmethod
    def load(cls, repo: Repo) -> Panel:
        rows = _SECTION_DOIS.rows(repo=repo.pk)
        # What an item shows besides its row: the repository's name (its links), and the
        # language and time zone of its dates.
        shown_for = (
            repo.type,
            repo.namespace.name,
            repo.name,
            get_language(),
            timezone.get_current_timezone_name(),
        )
        columns = [_SECTION_DOIS.column(rows, name) for name in _ITEM_COLUMNS]
        items = [
            Item(row, kind, failing=bool(error) or permanent, key=_item_key(shown_for, row))
            for row, kind, error, permanent in zip(rows, *columns, strict=True)
        ]
        items.sort(key=lambda item: item.kind != Doi.Kind.VERSION)  # (stable: newest first)
        cached = caching.get_many(item.key for item in items if not item.failing)
        for item in items:
            item.cached = cached.get(item.key)
        _build(repo, [item for item in items if item.cached is None])
        versions = [item for item in items if item.kind == Doi.Kind.VERSION]
        latest = _build(repo, versions[:1])[0] if versions else None
        if repo.head_id is None:
            offer = "empty"
        elif latest is not None and latest.revision_id == repo.head_id:
            offer = "current"
        elif repo.private:
            offer = "reserve"  # a draft: it resolves once the repository is public
        elif latest is None:
            offer = "generate"
        else:
            offer = "generate-new"
        polling = any(item.in_progress for item in items)
        return cls(repo, items, latest, offer, polling)

    @classmethod
    def for_page(cls, request: HttpRequest, repo: Repo) -> Panel:
        """Loaded once per request for the settings page: its DOI section, and what it says
        making the repository public or deleting it does to the reserved DOIs."""
        panels = request.__dict__.setdefault("_doi_panels", {})
        if repo.pk not in panels:
            panels[repo.pk] = cls.load(repo)
        return panels[repo.pk]

    @property
    def has_versions(self) -> bool:
        return any(item.kind == Doi.Kind.VERSION for item in self.items)

    @property
    def drafts(self) -> list[Doi]:
        """The reserved DOIs (``Doi.objects.drafts()``), oldest first."""
        drafts = _build(self.repo, [item for item in self.items if item.is_draft])
        return sorted(drafts, key=lambda d: d.number)

    @property
    def can_generate(self) -> bool:
        return self.offer in ("generate", "generate-new", "reserve")

    @property
    def draft(self) -> bool:
        return self.offer == "reserve"

    @property
    def button_label(self) -> str:
        return {"generate-new": "Generate new DOI", "reserve": "Reserve DOI"}.get(
            self.offer, "Generate DOI"
        )


def sandbox_note() -> str:
    """What to tell the owner when the DOIs made here are not real ones, else ""."""
    registrar = get_registrar()
    if not registrar.is_sandbox:
        return ""
    if isinstance(registrar, DataCiteRegistrar):
        return "DOIs are registered at DataCite's test system only and do not resolve at doi.org."
    return "nothing is registered at DataCite. DOIs made here resolve only on this site."


def _item_key(shown_for: tuple, row: tuple) -> str:
    stored = hashlib.md5(repr(row).encode(), usedforsecurity=False).hexdigest()
    return caching.key("doi-settings-item", (*shown_for, stored))


def _build(repo: Repo, items: list[Item]) -> list[Doi]:
    """The DOIs of ``items``, built from their rows once."""
    unbuilt = [item for item in items if item.doi is None]
    if not unbuilt:
        return [item.doi for item in items]
    for item, doi in zip(unbuilt, _SECTION_DOIS.instances([i.row for i in unbuilt]), strict=True):
        doi.repo = repo  # the page's own, already loaded
        item.doi = doi
    return [item.doi for item in items]


def _items_html(request: HttpRequest, panel: Panel) -> list[SafeString]:
    """The section's DOIs, versions newest first, then the concept DOI.

    A DOI whose pushes went well is rendered once per version of its row (its state, counts…,
    whether a newer version outdates it), the repository's name and the language and time zone
    its dates are shown in, for everyone who administers it (``Panel.load``, ``hubsite.caching``):
    a section of fifty DOIs otherwise reverses a URL a thousand times. One with an error is
    rendered on every request: it says when the next attempt is, and its Retry form holds this
    request's CSRF token."""
    html, rendered = [], {}
    for item in panel.items:
        if item.cached:
            html.append(item.cached[0])
            continue
        context = {"repo": panel.repo, "doi": item.doi}
        text = render_to_string(ITEM_TEMPLATE, context, request=request)
        if not item.failing:
            rendered[item.key] = (text, item.in_progress, item.is_draft)
        html.append(text)
    caching.set_many(rendered)
    # Rendered by the template, escaped there.
    return [mark_safe(text) for text in html]  # noqa: S308


def section_html(
    request: HttpRequest, repo: Repo, *, notice: str = "", panel: Panel | None = None
) -> SafeString:
    panel = panel or Panel.load(repo)
    context = {
        "repo": repo,
        "panel": panel,
        "items": _items_html(request, panel),
        "notice": notice,
        "sandbox": sandbox_note(),
        "settings_url": repo.url("settings"),
        "section_url": repo.url("doi-owner:section"),
        "generate_url": repo.url("doi-owner:generate"),
    }
    return render_to_string(SECTION_TEMPLATE, context, request=request)


def settings_slot(request: HttpRequest, repo: Repo, revision: Revision | None) -> str:
    """The DOI section on the repository's settings page (registered in DoiConfig.ready)."""
    if not repo.can_admin(request.user):
        return ""
    return section_html(request, repo, panel=Panel.for_page(request, repo))


def _back_to_section(request: HtmxHttpRequest, repo: Repo, notice: str) -> HttpResponse:
    if request.htmx:
        return HttpResponse(section_html(request, repo, notice=notice))
    if notice:
        messages.info(request, notice)
    return HttpResponseRedirect(repo.url("settings") + "#doi-section")


@login_required
@require_GET
@repo_admin_view
def section(request: HtmxHttpRequest, repo: Repo) -> HttpResponse:
    return _back_to_section(request, repo, notice="")


@login_required
@require_POST
@repo_admin_view
def retry(request: HtmxHttpRequest, repo: Repo, pk: int) -> HttpResponse:
    """Retry (a permanent failure) and Retry now (a transient one, before its next attempt)."""
    doi = get_object_or_404(Doi.objects.for_repo(repo).live(), pk=pk)
    if not doi.can_retry:
        return _back_to_section(request, repo, notice=f"{doi.doi} is not waiting for a retry.")
    try:
        doi.retry(request.user)
    except DoiNotAllowed as exc:  # retried a moment ago, or discarded by staff meanwhile
        return _back_to_section(request, repo, notice=exc.message)
    return _back_to_section(request, repo, notice=_state_notice(doi, "is being retried"))


@login_required
@require_http_methods(["GET", "POST"])
@repo_admin_view
def generate(request: HtmxHttpRequest, repo: Repo) -> HttpResponse:
    panel = Panel.load(repo)
    if not panel.can_generate:
        # Also where a second click on Generate DOI lands once the first one went through.
        return _back_to_section(request, repo, notice=_explanation(panel))
    record = Doi.objects.new_record(repo)
    if request.method == "GET":
        cff = citation_file.read(repo, repo.head)
        # The repository's own CITATION.cff names its authors better than a guess from the
        # person pressing the button.
        rows = cff.authors if cff and cff.authors else _default_rows(request.user)
        forms = RecordForms(None, rows=rows, record=record)
        return _render_form(request, panel, forms)
    action = request.POST.get("action", "generate")
    acknowledged = bool(request.POST.get("acknowledge"))
    if action not in ("generate", "preview"):
        # A row button (add, remove, move): the form again, with the rows edited.
        rows, submitted, focus = _edit_rows(request, repo, action, record)
        forms = RecordForms(None, rows=rows, record=submitted)
        return _render_form(request, panel, forms, acknowledged=acknowledged, focus=focus)
    forms = RecordForms(request.POST, rows=[], record=record)
    ack = AcknowledgeForm(request.POST) if action == "generate" else None
    if action == "generate" and forms.is_valid() and ack.is_valid():
        try:
            doi = Doi.objects.mint(
                repo=repo,
                user=request.user,
                creators=forms.creators,
                record=forms.record,
                consent_text=RESERVE_CONSENT_TEXT if panel.draft else CONSENT_TEXT,
                consent_version=CONSENT_VERSION,
                draft=panel.draft,
            )
        except (DoiNotAllowed, DoiMetadataError) as exc:
            return _render_form(request, panel, forms, ack=ack, error=exc.message)
        doi.refresh_from_db()  # the registration may have run already, after the commit
        if panel.draft:
            messages.info(request, _reserved_notice(doi))
        else:
            notice = _state_notice(doi, "is reserved; its registration is under way")
            messages.info(request, f"{notice} {LOCKED_NOTE}")
        # The whole settings page changes (rename, visibility and delete are locked now, or say
        # what they do to a draft), so htmx reloads it rather than swapping in the section.
        if request.htmx:  # (no #fragment: the browser would only scroll, not reload)
            return HttpResponseClientRedirect(repo.url("settings"))
        return HttpResponseRedirect(repo.url("settings") + "#doi-section")
    return _render_form(request, panel, forms, ack=ack, acknowledged=acknowledged)


@login_required
@require_http_methods(["GET", "POST"])
@repo_admin_view
def edit(request: HtmxHttpRequest, repo: Repo, pk: int) -> HttpResponse:
    """Edit metadata: the owner's record of a live DOI (authors, description), sent to
    DataCite as an update that leaves the DOI's state as it is."""
    doi = get_object_or_404(Doi.objects.for_repo(repo).live(), pk=pk)
    record = doi.record_defaults()
    if request.method == "GET":
        forms = RecordForms(None, rows=doi.record_creators, record=record)
        return _render_edit(request, doi, forms)
    action = request.POST.get("action", "save")
    acknowledged = bool(request.POST.get("acknowledge"))
    if action not in ("save", "preview"):
        rows, submitted, focus = _edit_rows(request, repo, action, record)
        forms = RecordForms(None, rows=rows, record=submitted)
        return _render_edit(request, doi, forms, acknowledged=acknowledged, focus=focus)
    forms = RecordForms(request.POST, rows=[], record=record)
    new_people = doi.new_people(forms.creators) if forms.is_valid() else []
    # Bound on Save only: a preview brings the acknowledgement along, without an error yet.
    needs_ack = new_people and action == "save"
    ack = EditAcknowledgeForm(request.POST, names=new_people) if needs_ack else None
    if action == "save" and forms.is_valid() and (ack is None or ack.is_valid()):
        try:
            changes = doi.edit(
                user=request.user,
                creators=forms.creators,
                record=forms.record,
                consent_text=edit_consent_text(new_people) if new_people else "",
                consent_version=EDIT_CONSENT_VERSION if new_people else "",
            )
        except (DoiNotAllowed, DoiMetadataError) as exc:
            return _render_edit(request, doi, forms, ack=ack, error=exc.message)
        return _back_to_section(request, repo, notice=_edited_notice(doi, changes))
    return _render_edit(request, doi, forms, ack=ack, acknowledged=acknowledged)


def _edited_notice(doi: Doi, changes: list[str]) -> str:
    if not changes:
        return f"Nothing was changed, so nothing was sent to DataCite for {doi.doi}."
    saved = f"The new details of {doi.doi} are saved"
    if doi.error_is_permanent:
        return f"{saved}, but DataCite did not take them: {doi.problem}"
    if doi.update_pending:
        return f"{saved}; updating at DataCite{': ' + doi.problem if doi.problem else '.'}"
    if doi.at_datacite:
        return f"{saved} and DataCite has them."
    return f"{saved}; they go to DataCite with its registration."


def _render_edit(
    request: HtmxHttpRequest,
    doi: Doi,
    forms: RecordForms,
    *,
    ack: EditAcknowledgeForm | None = None,
    acknowledged: bool = False,
    error: str = "",
    focus: str = "",
) -> HttpResponse:
    repo = doi.repo

    def preview(checked: RecordForms) -> dict:
        return doi.preview_edit(user=request.user, creators=checked.creators, record=checked.record)

    context = _record_form_context(repo, forms, preview, focus=focus)
    checked = context["checked"]
    new_people = doi.new_people(checked.creators) if checked.is_valid() else []
    if ack is None and new_people:
        ack = EditAcknowledgeForm(initial={"acknowledge": acknowledged}, names=new_people)
    edits = doi.events.filter(kind=Event.Kind.EDITED).select_related("actor")
    context |= {
        "repo": repo,
        "doi": doi,
        "ack": ack,
        "error": error,
        "edits": edits.order_by("created_at", "pk"),
        "sandbox": sandbox_note(),
        "settings_url": repo.url("settings"),
        "section_url": repo.url("doi-owner:section"),
        "form_url": repo.url("doi-owner:edit", doi.pk),
    }
    if request.htmx and request.htmx.target == "doi-preview":
        # The preview, and the acknowledgement once someone new is among the authors.
        return render(request, f"{EDIT_TEMPLATE}#preview-and-consent", context)
    return _render_page(request, repo, EDIT_TEMPLATE, context)


def _edit_rows(
    request: HttpRequest, repo: Repo, action: str, record: dict
) -> tuple[list[dict], dict, str]:
    """The author rows and the record as submitted, with a row button's ``action`` applied (to
    the authors, or to the related works or funders), and the element to focus."""
    rows = author_rows(request.POST)
    submitted = submitted_record(request.POST, record)
    if is_record_row_action(action):
        submitted = edit_record_rows(submitted, action)
        return rows, submitted, record_focus(submitted, action)
    rows = edit_author_rows(rows, action, organization=_organization_name(repo))
    return rows, submitted, focus_after(action, rows)


def _explanation(panel: Panel) -> str:
    return {
        "current": "The current revision already has a DOI.",
        "empty": "Add files first: a DOI names a revision, and this repository has none yet.",
    }[panel.offer]


def _reserved_notice(doi: Doi) -> str:
    if doi.problem:
        return f"{doi.doi} is not reserved at DataCite yet: {doi.problem}"
    return (
        f"{doi.doi} is reserved as a draft: cite it in your paper, but it does not resolve "
        "yet. Making the repository public publishes it."
    )


def _state_notice(doi: Doi, pending: str) -> str:
    if doi.state == Doi.State.FINDABLE:
        if not isinstance(get_registrar(), DataCiteRegistrar):
            return f"{doi.doi} is registered in the sandbox (nothing was sent to DataCite)."
        return f"{doi.doi} is registered at DataCite and findable."
    if doi.state == Doi.State.FAILED:
        return f"DataCite did not register {doi.doi}; the reason and a Retry button are below."
    if doi.problem:
        return f"{doi.doi} is not registered yet: {doi.problem}"
    return f"{doi.doi} {pending}."


def _default_rows(user) -> list[dict]:
    """The user as the first author, by the full name in their profile; no row without one
    (the form then asks for the name rather than guess it)."""
    full_name = user.full_name.strip()
    return [{"type": PERSONAL, "name": full_name}] if full_name else []


def _organization_name(repo: Repo) -> str:
    if repo.namespace.kind != repo.namespace.Kind.ORGANIZATION:
        return ""
    return repo.namespace.display_name


def _render_form(
    request: HtmxHttpRequest,
    panel: Panel,
    forms: RecordForms,
    *,
    ack: AcknowledgeForm | None = None,
    acknowledged: bool = False,
    error: str = "",
    focus: str = "",
) -> HttpResponse:
    """The acknowledgement form: a whole page, the section (htmx), or just the preview (htmx,
    when a field changed)."""
    repo = panel.repo

    def preview(checked: RecordForms) -> dict:
        return Doi.objects.preview(
            repo=repo,
            user=request.user,
            creators=checked.creators,
            record=checked.record,
            draft=panel.draft,
        )

    context = _record_form_context(repo, forms, preview, focus=focus) | {
        "repo": repo,
        "panel": panel,
        "ack": ack or AcknowledgeForm(initial={"acknowledge": acknowledged}),
        "error": error,
        "consent_points": RESERVE_CONSENT_POINTS if panel.draft else CONSENT_POINTS,
        "missing_full_name": not request.user.full_name.strip(),
        "sandbox": sandbox_note(),
        "settings_url": repo.url("settings"),
        "section_url": repo.url("doi-owner:section"),
        "form_url": repo.url("doi-owner:generate"),
        "next_name": True,
        # What the repository's CITATION.cff proposed, or why it could not.
        "citation_file": citation_file.read(repo, repo.head),
    }
    return _render_page(request, repo, FORM_TEMPLATE, context)


def _render_page(
    request: HtmxHttpRequest, repo: Repo, template: str, context: dict
) -> HttpResponse:
    """A record form's page: whole, its section (htmx), or just the preview (htmx, when a
    field changed)."""
    if request.htmx and request.htmx.target == "doi-preview":
        return render(request, PREVIEW_TEMPLATE, context)
    if request.htmx:
        return render(request, f"{template}#form-section", context)
    header = header_context(request, repo, repo.head, "settings")
    return render(request, template, context | header)


def _record_form_context(repo: Repo, forms: RecordForms, build, *, focus: str) -> dict:
    """What the record form's partials (doi/owner/_record_fields.html, _preview.html) need:
    the forms, and the preview of what ``build(checked_forms)`` would send."""
    if forms.is_bound:
        checked = forms
    else:
        checked = RecordForms.checked(forms.authors.initial or [], forms.record_form.initial)
        for form in forms.authors:
            if focus == form["name"].auto_id:
                form.fields["name"].widget.attrs["autofocus"] = True
        for formset in forms.lists.values():
            for form in formset:
                for field in form:
                    if focus and focus == field.auto_id:
                        field.field.widget.attrs["autofocus"] = True
    return {
        "forms": forms,
        "checked": checked,
        "formset": forms.authors,
        "record_form": forms.record_form,
        "related_formset": forms.related,
        "funding_formset": forms.funding,
        "focus": focus,
        "preview": _preview(checked, build),
        "organization": _organization_name(repo),
    }


def _preview(checked: RecordForms, build) -> dict:
    """What ``build(checked)`` says would be sent to DataCite, or why it cannot be shown yet."""
    if not checked.is_valid():
        return {"problems": checked.problems()}
    try:
        attributes = build(checked)
    except DoiNotAllowed as exc:  # nothing about the record: e.g. the daily quota is used up
        return {"refused": exc.message}
    except DoiMetadataError as exc:
        return {"problems": [exc.message]}
    return {
        "attributes": attributes,
        "summary": summarize(attributes),
        "json": json.dumps(attributes, indent=2, ensure_ascii=False),
    }


def summarize(attributes: dict) -> list[tuple[str, object]]:
    """The DataCite attributes a person checks, as (label, value) rows, in reading order."""
    publisher = attributes.get("publisher") or ""
    types = attributes.get("types") or {}
    titles = attributes.get("titles") or []
    rights = attributes.get("rightsList") or []
    subjects = attributes.get("subjects") or []
    descriptions = attributes.get("descriptions") or []
    related = attributes.get("relatedIdentifiers") or []
    funding = attributes.get("fundingReferences") or []
    return [
        ("DOI", attributes.get("doi", "")),
        ("Title", titles[0].get("title", "") if titles else ""),
        ("Publisher", publisher.get("name", "") if isinstance(publisher, dict) else publisher),
        ("Year", attributes.get("publicationYear", "")),
        (
            "Resource type",
            " — ".join(
                v for v in (types.get("resourceTypeGeneral"), types.get("resourceType")) if v
            ),
        ),
        ("Version", attributes.get("version", "")),
        ("URL", attributes.get("url", "")),
        ("Description", descriptions[0].get("description", "") if descriptions else ""),
        ("Licence", ", ".join(r.get("rights", "") for r in rights) or "None given in the card"),
        ("Subjects", ", ".join(s.get("subject", "") for s in subjects)),
        ("Related works", "; ".join(describe(r) for r in related)),
        (
            "Funding",
            "; ".join(
                ", ".join(v for v in (f.get("funderName"), f.get("awardNumber")) if v)
                for f in funding
            ),
        ),
    ]


# What becomes of a private repository's reserved DOIs (``repos.signals``) --------------------


def _drafts_named(dois: list[Doi]) -> tuple[str, str]:
    """ "the reserved DOI X" or "the reserved DOIs X and Y", and the pronoun for them."""
    names = [d.doi for d in dois]
    if len(names) == 1:
        return f"the reserved DOI {names[0]}", "it"
    return f"the reserved DOIs {', '.join(names[:-1])} and {names[-1]}", "they"


def foreseen_for_drafts(request: HttpRequest, repo: Repo, action: str) -> str:
    """What making the repository public, or deleting it, does to its reserved DOIs (read with
    the settings page's DOI section)."""
    if action not in ("make_public", "delete"):
        return ""
    drafts = Panel.for_page(request, repo).drafts
    if not drafts:
        return ""
    named, it = _drafts_named(drafts)
    if action == "make_public":
        return (
            f"Making it public also publishes {named} at DataCite, with the acknowledgement given "
            f"when reserving: from then on {it} {'resolves' if it == 'it' else 'resolve'} at "
            "doi.org, and the repository is locked like any with a DOI (no renaming, deleting "
            "or making it private again)."
        )
    them = "it" if it == "it" else "them"
    return (
        f"Deleting it also deletes {named} at DataCite. {it.capitalize()} never resolved, and "
        f"will be unknown from then on: take {them} out of any paper you put {them} in."
    )


def drafts_after_delete(repo: Repo) -> str:
    """What became of the deleted repository's reserved DOIs: deleted at DataCite, or why not
    yet and what happens next (the failure is stored on the row, shown to staff in the admin
    and to the owner on the DOI's page)."""
    if repo.pk is None:
        return ""  # deleted for good: it had no DOI
    dois = list(
        Doi.objects.filter(repo=repo)
        .filter(Q(pending_action=Doi.Action.DELETE) | Q(events__kind=Event.Kind.DELETED))
        .distinct()
        .order_by("number")
    )
    sentences = []
    deleted = [d for d in dois if d.discarded_at is not None]
    if deleted:
        named, it = _drafts_named(deleted)
        was = "was" if it == "it" else "were"
        sentences.append(
            f"{named[0].upper()}{named[1:]} {was} deleted at DataCite; {it} never resolved."
        )
    for doi in dois:
        if doi.discarded_at is not None:
            continue
        if doi.error_is_permanent:
            sentences.append(
                f"DataCite refused to delete the reserved DOI {doi.doi}: {doi.last_error}. It is "
                f"kept on record for staff to settle; write to {settings.SUPPORT_EMAIL} about "
                f"{doi.doi} if a paper names it."
            )
        elif doi.last_error:
            sentences.append(
                f"DataCite has not deleted the reserved DOI {doi.doi} yet: {doi.problem} It "
                "never resolved, and nothing else is needed from you."
            )
        else:
            sentences.append(
                f"The reserved DOI {doi.doi} is being deleted at DataCite; it never resolved."
            )
    return " ".join(sentences)
