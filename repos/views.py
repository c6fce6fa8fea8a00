from __future__ import annotations

import codecs
import posixpath
from collections.abc import Callable
from functools import cache, cached_property, wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import IntegerField, Prefetch, ProtectedError, prefetch_related_objects
from django.db.models.expressions import RawSQL
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils.csp import CSP
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from accounts.models import Membership, Namespace, Organization, User
from hubsite import page_cache
from hubsite.http import (
    STORE_ERRORS,
    STORE_RETRY_AFTER,
    STORE_UNAVAILABLE,
    HtmxHttpRequest,
    log_store_error,
)
from hubsite.queries import STAND_IN_ID, STAND_IN_TEXT, Prepared
from repos import cards, name_search, signals, slots, uploads
from repos.cards import card_html, size_problem
from repos.forms import (
    CardForm,
    DeleteForm,
    LargeFileForm,
    RenameForm,
    RepoCreateForm,
    UploadForm,
)
from repos.models import (
    README,
    CommitTooLarge,
    LfsQuotaExceeded,
    LfsUpload,
    Repo,
    RepoLocked,
    RepoQuerySet,
    RepoType,
    Revision,
    RevisionFile,
    UploadNotVerified,
)
from repos.pages import header_context, page_key, repo_admin_view, repo_view, support_request_url
from repos.paths import media_type

LISTING_PAGE_SIZE = 30
# Listings count their repositories up to here and say "more than" beyond: counting a million
# would cost more than the rest of the page. A search counts fewer: counting a term's matches
# reads about limit ÷ (the share of repositories it matches) rows, so that a common term costs
# the same on a million repositories as on a thousand.
LISTING_COUNT_LIMIT = 1000
SEARCH_COUNT_LIMIT = 100
COMMITS_PAGE_SIZE = 30
HOME_RECENT = 8


# Access ------------------------------------------------------------------------------------------


def _require_write(request: HttpRequest, repo: Repo) -> Repo:
    if not repo.can_write(request.user):
        raise PermissionDenied
    return repo


def _revision_or_404(repo: Repo, rev: str) -> Revision:
    try:
        return repo.resolve_revision(rev)
    except Revision.DoesNotExist:
        raise Http404 from None


def accepts_large_bodies(view: Callable | None = None, *, upload_limit: bool = False) -> Callable:
    """Turn a body over Django's limits into ``body_error`` for ``view`` instead of a 400 page.

    Django raises RequestDataTooBig when the CSRF middleware first reads the form, which ends in
    a bare error page. Here the body is read before the CSRF check; a body that parsed goes through
    the usual check, one that did not reaches ``view`` with ``body_error`` set, and the view must
    then only show the form with the message — it has no data to act on.

    With ``upload_limit``, files over ``REPO_UPLOAD_MAX_MB`` are refused the same way: from the
    announced Content-Length before the body is read, else where the files pass the limit.
    """
    if view is None:
        return lambda view: accepts_large_bodies(view, upload_limit=upload_limit)
    protected = csrf_protect(view)

    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "POST":
            return protected(request, *args, **kwargs)
        guard = None
        if upload_limit:
            size = uploads.announced_size(request)
            if size > uploads.limit_bytes() + uploads.FORM_ALLOWANCE:
                message = uploads.too_large_message(size)
                return view(request, *args, body_error=message, **kwargs)
            guard = uploads.LimitUploadHandler(request, uploads.limit_bytes())
            request.upload_handlers.insert(0, guard)
        try:
            request.POST, request.FILES  # noqa: B018 - parse the body now
        except (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
            message = (
                "The request was too large for the server to read "
                f"(more than {filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)} of form "
                f"text, or more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files). "
                "Nothing was committed."
            )
            return view(request, *args, body_error=message, **kwargs)
        if guard is not None and guard.exceeded:
            return view(request, *args, body_error=uploads.too_large_message(), **kwargs)
        return protected(request, *args, **kwargs)

    return wrapper


# Listings ----------------------------------------------------------------------------------------


class ListingPaginator(Paginator):
    """Pages of a listing that has ``count`` repositories, counted up to ``limit`` (the pages
    past it are not offered: a narrower search finds what they hold)."""

    def __init__(self, object_list, per_page: int, *, count: int, limit: int) -> None:
        super().__init__(object_list, per_page)
        self.limit = limit
        self.__dict__["count"] = count  # Paginator.count's cached value

    @property
    def count_is_capped(self) -> bool:
        return self.count > self.limit


def _matching(user, repo_type: str, query: str = "", by_index: bool = True) -> RepoQuerySet:
    return Repo.objects.visible_to(user).of_type(repo_type).search(query, by_index=by_index)


def _listed(user, repo_type: str, query: str = "", by_index: bool = True) -> RepoQuerySet:
    listed = _matching(user, repo_type, query, by_index).for_listing()
    # What a row shows, alone: every column read is converted, and is in the page's cache key.
    shown = listed.only("namespace__name", "name", "type", "private", "updated_at")
    return shown.order_by("-updated_at", "-pk")


def _counted(matching: RepoQuerySet, limit: int) -> RepoQuerySet:
    """Up to ``limit`` + 1 of ``matching``, to count: unordered and without the listing's
    joins (SQLite would make them for every row counted), any will do."""
    return matching.order_by().values("pk")[: limit + 1]


@cache
def _unsearched_count(logged_in: bool, limit: int) -> Prepared:
    """How many repositories a listing without a search shows (up to ``limit`` + 1), in SQL
    compiled once per kind of visitor: the listing most visitors see."""

    def build(repo_type: str, user: int) -> RepoQuerySet:
        visitor = User(pk=user) if logged_in else AnonymousUser()
        return _counted(_matching(visitor, repo_type), limit)

    return Prepared(build, repo_type=STAND_IN_TEXT, user=STAND_IN_ID)


@cache
def _unsearched_page(logged_in: bool, number: int, size: int) -> Prepared:
    """The rows of page ``number`` of a listing without a search, compiled once per kind of
    visitor and page (the pages are few: the listing counts up to LISTING_COUNT_LIMIT)."""
    start = (number - 1) * size

    def build(repo_type: str, user: int) -> RepoQuerySet:
        visitor = User(pk=user) if logged_in else AnonymousUser()
        return _listed(visitor, repo_type)[start : start + size]

    return Prepared(build, repo_type=STAND_IN_TEXT, user=STAND_IN_ID)


@cache
def _unsearched_first_page(logged_in: bool, size: int, limit: int) -> Prepared:
    """The rows of the first page of a listing without a search, each with how many
    repositories the listing shows (``listing_count``, up to ``limit`` + 1): one query, not a
    count and a page, for the page most visitors see."""

    def build(repo_type: str, user: int) -> RepoQuerySet:
        visitor = User(pk=user) if logged_in else AnonymousUser()
        sql, params = _counted(_matching(visitor, repo_type), limit).query.sql_with_params()
        # The ORM's SQL, wrapped: no value is in the text.
        counted = f"SELECT COUNT(*) FROM ({sql}) AS counted"  # noqa: S608
        count = RawSQL(counted, params, IntegerField())  # noqa: S611
        return _listed(visitor, repo_type).annotate(listing_count=count)[:size]

    return Prepared(build, repo_type=STAND_IN_TEXT, user=STAND_IN_ID)


# A search's values in SQL compiled once: the term, and the owner in "owner/name" (no search
# holds a NUL).
_SEARCH_STAND_INS = {
    "repo_type": STAND_IN_TEXT,
    "user": STAND_IN_ID,
    "term": "\x00term",
    "owner": "\x00owner",
}


@cache
def _search_count(logged_in: bool, slash: bool, by_index: bool, limit: int) -> Prepared:
    """How many repositories a search shows (up to ``limit`` + 1), in SQL compiled once per
    kind of visitor and of search (``owner/name`` or not, through SQLite's index or not).
    PostgreSQL plans it for each term: how common the term is decides the best plan."""

    def build(repo_type: str, user: int, term: str, owner: str) -> RepoQuerySet:
        visitor = User(pk=user) if logged_in else AnonymousUser()
        query = f"{owner}/{term}" if slash else term
        matching = Repo.objects.visible_to(visitor).of_type(repo_type)
        return matching.search_ids(query, by_index=by_index)[: limit + 1]

    return Prepared(build, planned_once=False, **_SEARCH_STAND_INS)


@cache
def _search_page(logged_in: bool, slash: bool, by_index: bool, number: int, size: int) -> Prepared:
    """The rows of page ``number`` of a search, compiled once per kind of visitor, of search
    and page (the pages are few: a search counts up to SEARCH_COUNT_LIMIT)."""
    start = (number - 1) * size

    def build(repo_type: str, user: int, term: str, owner: str) -> RepoQuerySet:
        visitor = User(pk=user) if logged_in else AnonymousUser()
        query = f"{owner}/{term}" if slash else term
        return _listed(visitor, repo_type, query, by_index)[start : start + size]

    return Prepared(build, planned_once=False, **_SEARCH_STAND_INS)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    public = Repo.objects.public().for_listing()
    return render(
        request,
        "home.html",
        {
            "models": public.of_type(RepoType.MODEL)[:HOME_RECENT],
            "datasets": public.of_type(RepoType.DATASET)[:HOME_RECENT],
        },
    )


@require_GET
def listing(request: HtmxHttpRequest, repo_type: str) -> HttpResponse:
    query = request.GET.get("search", "").strip()[:200]
    number = request.GET.get("page")
    values = {"repo_type": repo_type, "user": request.user.pk}
    logged_in = request.user.is_authenticated
    if query:
        # Searches find names and owners in any case: the term is lowered as the owner's
        # name is compared (Namespace.objects.with_name), for SQL compiled once.
        lowered = query.lower()
        owner, slash, name = lowered.partition("/")
        term = name if slash else lowered
        values |= {"term": term, "owner": owner if slash else ""}
        indexed = name_search.indexed(term)
        counted = _search_count(logged_in, bool(slash), indexed, SEARCH_COUNT_LIMIT)
        count = counted.count(**values)
        paginator = ListingPaginator([], LISTING_PAGE_SIZE, count=count, limit=SEARCH_COUNT_LIMIT)
        page = paginator.get_page(number)
        # So many match that reading in listing order fills a page soonest; SQLite's name
        # index would give them all, to be sorted (PostgreSQL's planner chooses by itself).
        by_index = indexed and not paginator.count_is_capped
        prepared = _search_page(logged_in, bool(slash), by_index, page.number, LISTING_PAGE_SIZE)
        shown = tuple(prepared.rows(**values))
    elif number in (None, "1"):
        # The listing most visitors see, in SQL compiled once, and read as the database gives
        # it: its rows are made into repositories only when the page is not cached yet.
        prepared = _unsearched_first_page(logged_in, LISTING_PAGE_SIZE, LISTING_COUNT_LIMIT)
        shown = tuple(prepared.rows(**values))
        count = prepared.column(shown[:1], "listing_count")[0] if shown else 0
        paginator = ListingPaginator([], LISTING_PAGE_SIZE, count=count, limit=LISTING_COUNT_LIMIT)
        page = paginator.page(1)
    else:
        count = _unsearched_count(logged_in, LISTING_COUNT_LIMIT).count(**values)
        paginator = ListingPaginator([], LISTING_PAGE_SIZE, count=count, limit=LISTING_COUNT_LIMIT)
        page = paginator.get_page(number)
        prepared = _unsearched_page(logged_in, page.number, LISTING_PAGE_SIZE)
        shown = tuple(prepared.rows(**values))
    # No further than the count, as the paginator's pages go: the last page of a capped count
    # ends at its limit + 1, however many rows follow.
    shown = shown[: count - page.start_index() + 1]
    ages = prepared.column(shown, "updated_at")

    def instances() -> list[Repo]:
        return prepared.instances(shown)

    # The whole page, for everyone who is shown the same rows: each row's every shown field is
    # in the key, so a new repository or commit, a rename, a visibility change or a deletion
    # changes it. Only the rows' ages ("3 hours ago") are filled in on every request.
    parts = (repo_type, query, page.number, page.paginator.count, *shown)

    def render_page(placeholders: dict) -> HttpResponse:
        page.object_list = instances()
        for i, repo in enumerate(page.object_list):
            repo.age = placeholders["holes"][f"age_{i}"]
        context = {
            "page": page,
            "count_limit": paginator.limit,
            "query": query,
            "repo_type": repo_type,
            "is_dataset": repo_type == RepoType.DATASET,
            **placeholders,
        }
        template = "repos/listing.html#results" if request.htmx else "repos/listing.html"
        return render(request, template, context)

    fill = {f"age_{i}": lambda a=a: a for i, a in enumerate(page_cache.ages(ages))}
    return page_cache.page(request, "listing", parts, render_page, fill)


# Creating ----------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest, repo_type: str) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = RepoCreateForm(data, user=request.user, instance=Repo(type=repo_type))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                repo = form.save()
        except IntegrityError:
            # Someone took the name between validation and saving.
            form.add_error("name", "That name was just taken. Choose another.")
        else:
            messages.success(request, f"Created {repo.full_name}.")
            return redirect(repo.url("page"))
    return render(
        request,
        "repos/new.html",
        {"form": form, "repo_type": repo_type, "is_dataset": repo_type == RepoType.DATASET},
    )


# Viewing -----------------------------------------------------------------------------------------


class RevisionContents:
    """What the repository page shows of a revision's files: the file list and the card. Read
    only when the page's cached pieces that show them are missing (their keys name the
    revision, whose files never change)."""

    def __init__(self, revision: Revision | None) -> None:
        self.revision = revision

    @cached_property
    def files(self) -> list[RevisionFile]:
        if self.revision is None:
            return []
        # Prefetched, so that slots listing the files (signposting) cost no query more.
        prefetch_related_objects(
            [self.revision], Prefetch("files", RevisionFile.objects.select_related("blob"))
        )
        return list(self.revision.files.all())

    @cached_property
    def total_size(self) -> int:
        return sum(f.blob.size for f in self.files)

    @cached_property
    def readme(self) -> RevisionFile | None:
        return next((f for f in self.files if f.path == README), None)

    @cached_property
    def _card(self) -> tuple[str, str]:
        """The card's HTML and the notice shown above it."""
        notice = self.revision.card_error if self.revision else ""
        if self.readme is None:
            return "", notice
        too_large = size_problem(self.readme.blob.size)
        if too_large:
            return "", f"{too_large}: it is not shown here. Download it from the file list."
        return card_html(self.readme.blob.sha256, self.readme.blob.read_text), notice

    @property
    def card_html(self) -> str:
        return self._card[0]

    @property
    def card_error(self) -> str:
        return self._card[1]


@require_safe  # HEAD too: machines read a landing page's Link header with it
@repo_view
def repo_page(request: HttpRequest, repo: Repo, rev: str | None = None) -> HttpResponse:
    revision = repo.head if rev is None else _revision_or_404(repo, rev)
    is_old = revision is not None and revision.pk != repo.head_id
    # The card and file list are cached per revision, with what their links and buttons name,
    # and what decides how the card is rendered.
    card_key = (page_key(repo, revision), settings.CARD_MAX_KB, cards.RENDERER_VERSION)
    viewer = (request.user.is_authenticated, repo.can_write(request.user))
    author = revision.author.username if revision and revision.author else ""
    # The whole page, for everyone with the same rights: the path (a landing page's head is
    # the DOI's of the URL it resolves to), what the other apps' slots show, the author named.
    parts = (request.path, *card_key, author, *viewer, repo.can_admin(request.user))
    parts += slots.cache_key(request, repo, revision)

    def render_page(placeholders: dict) -> HttpResponse:
        context = header_context(request, repo, revision, "card")
        context.update(
            contents=RevisionContents(revision), is_old=is_old, card_key=card_key, **placeholders
        )
        response = render(request, "repos/page.html", context)
        link = slots.link_header(request, repo, revision)
        if link:
            response["Link"] = link
        return response

    fill = {"revision_age": lambda: page_cache.age(revision.created_at)} if revision else {}
    return page_cache.page(request, "repo-page", parts, render_page, fill)


@require_GET
@repo_view
def commits(request: HttpRequest, repo: Repo) -> HttpResponse:
    revisions = repo.revisions.select_related("author")
    page = Paginator(revisions, COMMITS_PAGE_SIZE).get_page(request.GET.get("page"))
    context = header_context(request, repo, repo.head, "commits")
    context["page"] = page
    return render(request, "repos/commits.html", context)


@require_GET
@repo_view
def commit(request: HttpRequest, repo: Repo, rev: str) -> HttpResponse:
    """A revision at the address the Hub gives a commit (what the API answers a commit with)."""
    return redirect(_revision_or_404(repo, rev))


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


@require_safe  # HEAD too: what a Signposting client asks of a landing page's files
@repo_view
def blob(request: HttpRequest, repo: Repo, rev: str, path: str) -> HttpResponse:
    revision = _revision_or_404(repo, rev)
    try:
        entry = revision.files.select_related("blob").get(path=path)
    except RevisionFile.DoesNotExist:
        raise Http404 from None
    direct = entry.blob.direct_download_url(posixpath.basename(path))
    fh = None if direct is not None else entry.blob.open()
    # HEAD (what FAIR Signposting clients ask of a file first) downloads nothing; a file the
    # store failed to open (503) neither.
    if request.method == "GET":
        signals.downloaded.send(
            sender=Revision, request=request, revision=revision, path=path, by_api=False
        )
    if fh is None:
        return HttpResponseRedirect(direct)
    text = _is_text(fh.read(8192))
    fh.seek(0)
    # Shown in the browser, text is plain text whatever it is; a download is what its name says.
    download = not text or "download" in request.GET
    response = FileResponse(
        fh,
        as_attachment=download,
        filename=posixpath.basename(path),
        content_type=media_type(path) if download else "text/plain; charset=utf-8",
    )
    # The bytes are someone's upload: never let a browser run them as a page of this site.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# Changing files ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@repo_view
@accepts_large_bodies(upload_limit=True)
def upload(request: HttpRequest, repo: Repo, body_error: str = "") -> HttpResponse:
    _require_write(request, repo)
    status = 200
    if body_error:
        form, status = UploadForm(), 413
    else:
        is_post = request.method == "POST"
        form = UploadForm(request.POST, request.FILES) if is_post else UploadForm()
        if is_post and form.is_valid():
            stored = form.cleaned_data["stored_paths"]
            try:
                LfsUpload.objects.verify_all(repo, stored.values())
                revision = repo.commit(
                    author=request.user,
                    message=form.cleaned_data["message"],
                    add=form.cleaned_data["paths"],
                    stored=stored,
                )
            except CommitTooLarge as exc:
                form.add_error("files", str(exc))
                status = 413
            except UploadNotVerified as exc:
                form.add_error("files", str(exc))
                status = 422
            except STORE_ERRORS as exc:  # the message stays in the form
                log_store_error(request, exc)
                form.add_error(None, STORE_UNAVAILABLE)
                status = 503
            else:
                count = len(form.cleaned_data["paths"]) + len(stored)
                messages.success(
                    request,
                    f"Committed {count} file{'s' if count != 1 else ''} as revision "
                    f"{revision.short_oid}.",
                )
                return redirect(repo.url("page"))
    context = header_context(request, repo, repo.head, "files")
    context.update(form=form, body_error=body_error, limit_mb=settings.REPO_UPLOAD_MAX_MB)
    direct = uploads.direct_uploads_offered()
    if direct:
        context.update(
            threshold_bytes=settings.LFS_THRESHOLD_MB * 1024 * 1024,
            file_max_bytes=settings.LFS_MAX_FILE_MB * 1024 * 1024,
            repo_quota_bytes=settings.LFS_REPO_QUOTA_MB * 1024 * 1024,
        )
    response = render(request, "repos/upload.html", context | {"direct": direct}, status=status)
    if status == 503:
        response["Retry-After"] = STORE_RETRY_AFTER
    if direct:
        # The page's script hashes files with WebAssembly (hash-wasm) and PUTs them to the store.
        policy = dict(settings.SECURE_CSP)
        policy["script-src"] = [*policy["script-src"], "'wasm-unsafe-eval'"]
        policy["connect-src"] = [CSP.SELF, default_storage.upload_origin]
        response._csp_config = policy
    return response


@login_required
@require_POST
@repo_view
def upload_large(request: HttpRequest, repo: Repo) -> JsonResponse:
    """Where the upload page's script asks to send a large file straight to the object store:
    the answer is a presigned URL to PUT it to, or ``stored`` when the hub holds it already.
    The quotas are the LFS batch API's (``LfsUpload``); the commit form then names the file."""
    _require_write(request, repo)
    if not uploads.direct_uploads_offered():
        message = "This hub has no object store: files come inside the commit."
        return JsonResponse({"error": message}, status=501)
    form = LargeFileForm(request.POST)
    if not form.is_valid():
        message = "Send the file's SHA-256 (64 hex digits, lower case) and size in bytes."
        return JsonResponse({"error": message}, status=400)
    sha256, size = form.cleaned_data["sha256"], form.cleaned_data["size"]
    try:
        LfsUpload.objects.check_quota(repo, {sha256: size})
    except LfsQuotaExceeded as exc:
        return JsonResponse({"error": str(exc)}, status=413)
    announced = LfsUpload.objects.announce(repo, sha256, size)
    if announced.blob is not None:
        return JsonResponse({"stored": True})
    return JsonResponse(
        {"stored": False, "url": default_storage.upload_url(announced.staging_name)}
    )


def _current_readme(repo: Repo, *, read: bool = True) -> tuple[str, str]:
    """The README's text for the editor, or "" and why it is not loaded (too large). Without
    ``read`` only why (a POST brings its own text: the store need not be asked)."""
    if repo.head is None:
        return "", ""
    entry = repo.head.files.select_related("blob").filter(path=README).first()
    if entry is None:
        return "", ""
    too_large = size_problem(entry.blob.size)
    if too_large:
        return "", (
            f"{too_large}, so it is not loaded here. What you commit replaces it; to keep it, "
            "download it from the file list and upload a shorter one."
        )
    return (entry.blob.read_text() if read else ""), ""


@login_required
@require_http_methods(["GET", "POST"])
@repo_view
@accepts_large_bodies
def edit_card(request: HttpRequest, repo: Repo, body_error: str = "") -> HttpResponse:
    _require_write(request, repo)
    status = 200
    posted = request.method == "POST" and not body_error
    text, not_loaded = _current_readme(repo, read=not posted)
    initial = {"content": text}
    if body_error:
        form, status = CardForm(initial=initial, dataset=repo.is_dataset), 413
    else:
        form = CardForm(request.POST if posted else None, initial=initial, dataset=repo.is_dataset)
        if posted and form.is_valid():
            try:
                revision = repo.commit(
                    author=request.user,
                    message=form.cleaned_data["message"],
                    add={README: form.cleaned_data["content"].encode()},
                )
            except STORE_ERRORS as exc:  # the text stays in the form, to be sent again
                log_store_error(request, exc)
                form.add_error(None, STORE_UNAVAILABLE)
                status = 503
            else:
                messages.success(request, f"Saved README.md as revision {revision.short_oid}.")
                return redirect(repo.url("page"))
    context = header_context(request, repo, repo.head, "card")
    context.update(form=form, body_error=body_error, not_loaded=not_loaded)
    response = render(request, "repos/edit_card.html", context, status=status)
    if status == 503:
        response["Retry-After"] = STORE_RETRY_AFTER
    return response


# Settings ----------------------------------------------------------------------------------------


def _lock_notes(repo: Repo) -> dict[str, dict[str, str]]:
    """For a locked repository, per settings action: why it is refused, and where to ask staff.

    The support app is optional here (repos does not import it): its request form is linked when
    its URL exists, and the settings page falls back to the support address otherwise.
    """
    reasons = repo.lock_reasons
    if not reasons:
        return {}
    actions = [
        ("rename", "renamed or moved", "Request a rename or move"),
        ("visibility", "made public" if repo.private else "made private", "Request the change"),
        ("delete", "deleted", "Request deletion"),
    ]
    return {
        action: {
            "text": str(RepoLocked(repo.full_name, verb, reasons)),
            "url": support_request_url(repo, action),
            "label": label,
        }
        for action, verb, label in actions
    }


def _render_settings(request: HttpRequest, repo: Repo, **forms) -> HttpResponse:
    context = header_context(request, repo, repo.head, "settings")
    context["locks"] = _lock_notes(repo)
    context["rename_form"] = forms.get("rename_form") or RenameForm(user=request.user, repo=repo)
    context["delete_form"] = forms.get("delete_form") or DeleteForm(repo=repo)
    context["visibility_error"] = forms.get("visibility_error", "")
    context["foreseen"] = {
        action: _answers(signals.foreseen, repo, request=request, action=action)
        for action in ("make_public", "delete")
    }
    return render(request, "repos/settings.html", context)


def _answers(signal, repo: Repo, **kwargs) -> list[str]:
    """The sentences other apps answer ``signal`` with (see ``repos.signals``)."""
    return [answer for _, answer in signal.send(sender=Repo, repo=repo, **kwargs) if answer]


@login_required
@require_GET
@repo_admin_view
def settings_page(request: HttpRequest, repo: Repo) -> HttpResponse:
    return _render_settings(request, repo)


@login_required
@require_POST
@repo_admin_view
def rename(request: HttpRequest, repo: Repo) -> HttpResponse:
    form = RenameForm(request.POST, user=request.user, repo=repo)
    if form.is_valid():
        old_name = repo.full_name
        try:
            repo.move(namespace=form.cleaned_data["namespace"], name=form.cleaned_data["name"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except IntegrityError:
            form.add_error("name", "That name was just taken. Choose another.")
        except RepoLocked as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request, f"Renamed {old_name} to {repo.full_name}. Links to the old name redirect."
            )
            return redirect(repo.url("settings"))
    return _render_settings(request, repo, rename_form=form)


@login_required
@require_POST
@repo_admin_view
def visibility(request: HttpRequest, repo: Repo) -> HttpResponse:
    choice = request.POST.get("visibility")
    if choice not in ("public", "private"):
        return _render_settings(request, repo, visibility_error="Choose public or private.")
    try:
        repo.set_private(choice == "private")
    except RepoLocked as exc:
        return _render_settings(request, repo, visibility_error=str(exc))
    messages.success(request, f"{repo.full_name} is now {choice}.")
    return redirect(repo.url("settings"))


@login_required
@require_POST
@repo_admin_view
def delete(request: HttpRequest, repo: Repo) -> HttpResponse:
    form = DeleteForm(request.POST, repo=repo)
    if form.is_valid():
        name, namespace = repo.full_name, repo.namespace
        try:
            repo.delete()
        except RepoLocked as exc:
            form.add_error(None, str(exc))
        except ProtectedError:
            # E.g. DOIs that were discarded (the lock released) stay on record and name it.
            form.add_error(
                None,
                f"{name} cannot be deleted: records that must be kept, such as DOIs it once had, "
                "still refer to it. Write to support to have it removed.",
            )
        else:
            # What became of the records other apps kept (a draft DOI DataCite deleted, say).
            after = "".join(f" {answer}" for answer in _answers(signals.deleted, repo))
            messages.success(request, f"Deleted {name}.{after}")
            return redirect(namespace.get_absolute_url())
    return _render_settings(request, repo, delete_form=form)


# The page of a user or an organization ----------------------------------------------------------


# Compiled once per process (see hubsite.queries), with only the columns the page shows: the
# page's key is made of their rows.
_NAMESPACE = Prepared(
    lambda name: (
        Namespace.objects.select_related("user", "organization")
        .only(
            "name",
            "kind",
            "user__username",
            "user__full_name",
            "organization__display_name",
            "organization__description",
        )
        .with_name(name)
    ),
    name=STAND_IN_TEXT,
)
_MEMBERS = Prepared(
    lambda organization: (
        Membership.objects.filter(organization_id=organization)
        .select_related("user")
        .only("role", "user__username", "user__full_name")
    ),
    organization=STAND_IN_ID,
)
_ORGANIZATIONS_OF = Prepared(
    lambda user: (
        Organization.objects.filter(memberships__user_id=user)
        .select_related("namespace")
        .only("display_name", "namespace__name")
    ),
    user=STAND_IN_ID,
)


@cache
def _namespace_repos(logged_in: bool) -> Prepared:
    """The repositories of a namespace a visitor may see, compiled once per kind of visitor."""

    def build(namespace: int, user: int) -> RepoQuerySet:
        visitor = User(pk=user) if logged_in else AnonymousUser()
        return (
            Repo.objects.visible_to(visitor)
            .filter(namespace_id=namespace)
            .only("namespace_id", "name", "type", "private", "updated_at")
        )

    return Prepared(build, namespace=STAND_IN_ID, user=STAND_IN_ID + 1)


@require_safe
def namespace_page(request: HttpRequest, name: str) -> HttpResponse:
    namespace_rows = _NAMESPACE.rows(name=name.lower())
    if not namespace_rows:
        raise Http404
    (namespace,) = _NAMESPACE.instances(namespace_rows)
    if namespace.name != name:
        return redirect(namespace, permanent=True)
    if not namespace.has_owner:
        raise Http404("Nobody has this name.")
    repo_rows = _namespace_repos(request.user.is_authenticated).rows(
        namespace=namespace.pk, user=request.user.pk
    )
    is_organization = namespace.kind == Namespace.Kind.ORGANIZATION
    if is_organization:
        related = _MEMBERS.rows(organization=namespace.organization.pk)
        members = _MEMBERS.column(related, "user_id")
        roles = zip(members, _MEMBERS.column(related, "role"), strict=True)
        # Only an admin gets the settings link; what else differs by visitor is in the rows.
        manages = (request.user.pk, Membership.Role.ADMIN) in roles
    else:
        related = _ORGANIZATIONS_OF.rows(user=namespace.user.pk)
        manages = namespace.user.pk == request.user.pk  # the owner gets an edit link

    # The whole page, for everyone who is shown the same rows: each row's every shown column is
    # in the key, so a new repository or commit, a rename, a visibility change, a deletion or a
    # membership change gives a new key.
    parts = (namespace_rows, repo_rows, related, manages)

    def render_page(placeholders: dict) -> HttpResponse:
        repos = _namespace_repos(request.user.is_authenticated).instances(repo_rows)
        for repo in repos:
            repo.namespace = namespace  # spares a query per repository when building its URL
        context = {
            "namespace": namespace,
            "models": [r for r in repos if r.type == RepoType.MODEL],
            "datasets": [r for r in repos if r.type == RepoType.DATASET],
            **placeholders,
        }
        if is_organization:
            context["organization"] = namespace.organization
            context["memberships"] = _MEMBERS.instances(related)
            context["is_admin"] = manages
            template = "repos/organization_page.html"
        else:
            context["organizations"] = _ORGANIZATIONS_OF.instances(related)
            context["is_self"] = manages
            template = "repos/user_page.html"
        return render(request, template, context)

    return page_cache.page(request, "namespace-page", parts, render_page)
