"""Who may do what: every page, every form post and every admin action, for each kind of person.

Each row is one request (a URL of the URLconf, GET or POST, or an admin action); each cell runs
it as one of ROLES and checks the status, and that a refused request changed nothing in the
database. A URL in the URLconf without a row, or an admin action without one, fails
test_every_url_has_a_row / test_every_admin_action_has_a_row.

The hub's rules, as the rows spell them:
- a private repository is visible to its organization's members (or its owner) and a 404 to
  everyone else; writing needs write or admin, settings need admin (403 when visible);
- the API (/api/…) knows only Bearer tokens: its rows send the role's own write token instead
  of the session (rows marked ``token``), so they check the same rules for code;
- staff are nobody special on the site itself; in the admin, what they see and do follows their
  permissions: view-only staff see everything and change nothing, the "Support staff" group
  handles support requests and DOIs, superusers do whatever the admin offers at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import AccessToken, Organization
from doi.forms import CONSENT_VERSION
from doi.models import Doi
from repos.models import RepoRedirect, RepoType
from support.models import SupportRequest
from tests.factories import PASSWORD, RepoFactory, UserFactory, commit_files, mint_doi

ROLES = (
    "anonymous",
    "stranger",
    "reader",
    "writer",
    "org_admin",
    "owner",
    "view_only_staff",
    "support_staff",
    "superuser",
)
STAFF = {"view_only_staff", "support_staff", "superuser"}
CARD = "---\nlicense: mit\n---\n# A model\n"


# Outcomes ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    status: int
    changed: bool | None = False  # None: may or may not change anything
    to: str = ""  # the start of the redirect's target ("login" or "admin-login" stand for those)


OK = Expect(200)
UNAUTHORIZED = Expect(401)
FORBIDDEN = Expect(403)
NOT_FOUND = Expect(404)
NOT_ALLOWED = Expect(405)
LOCKED = Expect(423)
LOGIN = Expect(302, to="login")
ADMIN_LOGIN = Expect(302, to="admin-login")


def done(status: int = 302) -> Expect:
    return Expect(status, changed=True)


def moved(status: int = 302) -> Expect:
    """Refused or pointless, said on the page it leads to; nothing changes."""
    return Expect(status)


# The world --------------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    org: Organization
    croquet: object  # wonderland/croquet: a private model of the organization, not locked
    hatter_draft: Doi  # the reserved DOI of wonderland/hatter, a private model: a DataCite draft
    cards: object  # wonderland/cards: a public dataset of the organization, locked by a DOI
    bert: object  # alice/bert: a public model of the owner, locked by DOIs
    bert_failed: Doi  # bert's version DOI, whose last update failed for good
    cards_failed: Doi  # cards' version DOI, refused before DataCite ever had it
    request: SupportRequest  # alice's open request to delete bert
    token: AccessToken  # alice's read token
    redirect: RepoRedirect
    attempt: AccessAttempt  # a recent log-in failure (django-axes)
    failure: AccessFailureLog
    access: AccessLog


# Levels on a repository: 0 none, 1 view, 2 write, 3 admin.
ORG_LEVELS = {"reader": 1, "writer": 2, "org_admin": 3}
OWNER_LEVELS = {"owner": 3}
TARGETS = {
    "croquet": (True, ORG_LEVELS),
    "hatter": (True, ORG_LEVELS),
    "cards": (False, ORG_LEVELS),
    "bert": (False, OWNER_LEVELS),
}


def level(role: str, target: str) -> int:
    private, levels = TARGETS[target]
    return levels.get(role, 0 if private else 1)


def _mint(repo, user) -> Doi:
    return mint_doi(repo, user, [{"type": "Personal", "name": user.full_name}])


def _draft_url(w: World) -> str:
    return reverse("doi:resolve", args=[w.hatter_draft.doi])


def _build() -> World:
    users = {
        "stranger": UserFactory(username="mallory", full_name="Mallory Stranger"),
        "reader": UserFactory(username="carol", full_name="Carol Reader"),
        "writer": UserFactory(username="bob", full_name="Bob Writer"),
        "org_admin": UserFactory(username="olive", full_name="Olive Admin"),
        "owner": UserFactory(username="alice", full_name="Alice Liddell"),
        "view_only_staff": UserFactory(username="viewer", is_staff=True),
        "support_staff": UserFactory(username="helper", is_staff=True),
        "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
    }
    users["view_only_staff"].user_permissions.set(
        Permission.objects.filter(codename__startswith="view_")
    )
    users["support_staff"].groups.add(Group.objects.get(name="Support staff"))
    org = Organization.create(
        name="wonderland", display_name="Wonderland", creator=users["org_admin"]
    )
    org.add_member(users["writer"], "write")
    org.add_member(users["reader"], "read")

    croquet = RepoFactory(namespace=org.namespace, name="croquet", private=True)
    commit_files(croquet, users["writer"], {"README.md": CARD})
    redirect = RepoRedirect.objects.create(
        type=RepoType.MODEL, owner="wonderland", name="old-croquet", repo=croquet
    )
    hatter = RepoFactory(namespace=org.namespace, name="hatter", private=True)
    commit_files(hatter, users["writer"], {"README.md": CARD})
    hatter_draft = Doi.objects.mint(
        repo=hatter,
        user=users["org_admin"],
        creators=[{"type": "Personal", "name": "Ada Admin"}],
        consent_text="I acknowledge …",
        consent_version="test",
        draft=True,
    )
    for doi in Doi.objects.filter(repo=hatter):
        Doi.objects.push(doi.pk)

    cards = RepoFactory(namespace=org.namespace, name="cards", type=RepoType.DATASET)
    commit_files(cards, users["org_admin"], {"README.md": CARD})
    cards_version = _mint(cards, users["org_admin"])  # reserved, never pushed
    Doi.objects.filter(pk=cards_version.pk).update(
        error_is_permanent=True, last_error="DataCite refused the metadata."
    )

    bert = RepoFactory(namespace=users["owner"].namespace, name="bert")
    commit_files(bert, users["owner"], {"README.md": CARD})
    bert_version = _mint(bert, users["owner"])
    for doi in Doi.objects.filter(repo=bert):
        Doi.objects.push(doi.pk)
    # An update that failed for good, and a new revision waiting for its DOI.
    Doi.objects.filter(pk=bert_version.pk).update(
        pending_action=Doi.Action.UPDATE, error_is_permanent=True, last_error="Refused."
    )
    commit_files(bert, users["owner"], {"weights.bin": "v2"}, "Retrain")
    request = SupportRequest.file(
        repo=bert, requester=users["owner"], action="delete", reason="Wrong licence."
    )

    token, _ = AccessToken.issue(user=users["owner"], name="laptop", scope="read")

    failed_login = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "mallory"}
    failed_login |= {"http_accept": "*/*", "path_info": "/login"}
    attempt = AccessAttempt.objects.create(
        **failed_login, get_data="", post_data="", failures_since_start=1
    )
    failure = AccessFailureLog.objects.create(**failed_login)
    access = AccessLog.objects.create(**failed_login)

    return World(
        users=users,
        org=org,
        croquet=croquet,
        hatter_draft=Doi.objects.get(pk=hatter_draft.pk),
        cards=cards,
        bert=bert,
        bert_failed=Doi.objects.get(pk=bert_version.pk),
        cards_failed=Doi.objects.get(pk=cards_version.pk),
        request=request,
        token=token,
        redirect=redirect,
        attempt=attempt,
        failure=failure,
        access=access,
    )


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("matrix-media")


@pytest.fixture(autouse=True)
def _isolated_media(settings, media) -> None:
    # The world's files live for the whole module (conftest gives each test its own folder).
    settings.MEDIA_ROOT = media


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, media):
    """Built once, inside a transaction that is rolled back after the module; each cell runs in
    a savepoint of it, so every cell starts from the same world."""
    with (
        django_db_blocker.unblock(),
        override_settings(MEDIA_ROOT=media, DOI_REGISTRAR="local", DOI_CONCEPT_DOIS=True),
        transaction.atomic(),
    ):
        yield _build()
        transaction.set_rollback(True)


SNAPSHOT_APPS = {"accounts", "repos", "doi", "support", "auth", "django_tasks_database", "axes"}


def _snapshot() -> tuple:
    """Every row of the hub's tables (sessions aside), to tell whether a request changed any.
    On PostgreSQL one query hashes each table; elsewhere the rows themselves are read. Tables
    the hub does not manage are left out: SQLite's name index (repos.RepoNameSearch) is only
    there, and follows the repositories' table."""
    models = [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.app_label in SNAPSHOT_APPS and model._meta.managed
    ]
    if connection.vendor != "postgresql":
        return tuple(list(m._base_manager.order_by("pk").values()) for m in models)
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    # The table names are our models' own, quoted: nothing here comes from a request.
    digest = "(SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {} t)"
    columns = ", ".join(digest.format(table) for table in tables)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns}")
        return cursor.fetchone()


# Rows ---------------------------------------------------------------------------------------

Url = Callable[[World], str]
Rule = Callable[[str], Expect]


@dataclass(frozen=True)
class Row:
    name: str  # the URL name this row covers ("" for admin actions, which share the list's)
    method: str
    url: Url
    expect: Rule
    data: Callable[[World, object], dict] | None = None
    label: str = ""  # tells rows of one URL and method apart
    token: bool = False  # sent with the role's write token as Bearer instead of the session

    @property
    def id(self) -> str:
        return "-".join(filter(None, [self.name or "action", self.label, self.method]))


def get(name: str, url: Url, expect: Rule, label: str = "") -> Row:
    return Row(name, "GET", url, expect, label=label)


def post(name: str, url: Url, expect: Rule, data=None, label: str = "") -> Row:
    return Row(name, "POST", url, expect, data, label=label)


def api_get(name: str, url: Url, expect: Rule, label: str = "") -> Row:
    return Row(name, "GET", url, expect, label=label, token=True)


def api_post(name: str, url: Url, expect: Rule, data=None, label: str = "") -> Row:
    return Row(name, "POST", url, expect, data, label=label, token=True)


def api_call(name: str, method: str, url: Url, expect: Rule, data=None, label: str = "") -> Row:
    """An API row of any method; ``data`` gives a JSON object, or the bytes of an NDJSON body."""
    return Row(name, method, url, expect, data, label=label, token=True)


def to(name: str, *args) -> Url:
    return lambda w: reverse(name, args=list(args))


def everyone(outcome: Expect) -> Rule:
    return lambda role: outcome


def logged_in(outcome: Expect, anonymous: Expect = LOGIN) -> Rule:
    return lambda role: anonymous if role == "anonymous" else outcome


def only(allowed_role: str, allowed: Expect, others: Expect) -> Rule:
    return logged_in_or(lambda role: allowed if role == allowed_role else others)


def logged_in_or(rest: Rule) -> Rule:
    return lambda role: LOGIN if role == "anonymous" else rest(role)


def repo_view(target: str) -> Rule:
    return lambda role: OK if level(role, target) >= 1 else NOT_FOUND


def repo_needs(target: str, need: int, allowed: Expect) -> Rule:
    """login_required, then 404 to those who cannot see it, 403 to those who only see it."""

    def expect(role: str) -> Expect:
        if role == "anonymous":
            return LOGIN
        have = level(role, target)
        if have == 0:
            return NOT_FOUND
        return allowed if have >= need else FORBIDDEN

    return expect


def api_needs(target: str, need: int, allowed: Expect) -> Rule:
    """A write token's call on a repository: 401 without a token, then 404 to those who cannot
    see it, 403 to those who only see it or may write but not administer it."""

    def expect(role: str) -> Expect:
        if role == "anonymous":
            return UNAUTHORIZED
        have = level(role, target)
        if have == 0:
            return NOT_FOUND
        return allowed if have >= need else FORBIDDEN

    return expect


def org_admin_only(allowed: Expect) -> Rule:
    return logged_in_or(lambda role: allowed if role == "org_admin" else FORBIDDEN)


def _repo_url(attr: str, page: str, *args: Callable[[World], str]) -> Url:
    return lambda w: getattr(w, attr).url(page, *(a(w) for a in args))


def _doi_url(attr: str, page: str, *args: Callable[[World], object]) -> Url:
    def url(w: World) -> str:
        repo = getattr(w, attr)
        names = [repo.namespace.name, repo.name, *(a(w) for a in args)]
        return reverse(f"doi-owner:{repo.type}-{page}", args=names)

    return url


def _head(attr: str) -> Callable[[World], str]:
    return lambda w: getattr(w, attr).head.oid


def _upload(w: World, user) -> dict:
    return {"files": [SimpleUploadedFile("notes.txt", b"hello")], "message": "Add notes"}


def _card(w: World, user) -> dict:
    return {"content": "# Rewritten\n", "message": "Rewrite the card"}


def _authors(w: World, user) -> dict:
    row = {"type": "Personal", "name": "Alice Liddell", "given_name": "", "family_name": ""}
    row |= {"orcid": "", "affiliation": ""}
    data = {f"authors-0-{key}": value for key, value in row.items()}
    return data | {
        "authors-TOTAL_FORMS": "1",
        "authors-INITIAL_FORMS": "0",
        "acknowledge": "on",
        "action": "generate",
    }


def _edited_record(w: World, user) -> dict:
    return _authors(w, user) | {"description": "Edited in the matrix.", "action": "save"}


def _repo_rows(kind: str, attr: str) -> list[Row]:
    """The pages and posts of one repository (``kind`` is "model" or "dataset")."""
    at = f"repos:{kind}"
    # The DOI lock refuses these on cards with the form again (200), changing nothing.
    admin_post = OK if attr == "cards" else done()
    visibility = "private" if attr == "cards" else "public"
    head, url = _head(attr), lambda page, *args: _repo_url(attr, page, *args)
    return [
        get(f"{at}-page", url("page"), repo_view(attr)),
        get(f"{at}-tree", url("tree", head), repo_view(attr)),
        get(f"{at}-commits", url("commits"), repo_view(attr)),
        get(
            f"{at}-commit",
            url("commit", head),
            lambda role: moved() if level(role, attr) >= 1 else NOT_FOUND,
        ),
        get(f"{at}-blob", url("blob", head, lambda w: "README.md"), repo_view(attr)),
        get(f"{at}-upload", url("upload"), repo_needs(attr, 2, OK)),
        post(f"{at}-upload", url("upload"), repo_needs(attr, 2, done()), _upload),
        get(f"{at}-upload-large", url("upload-large"), logged_in(NOT_ALLOWED)),
        # Without an object store (the tests' default) writers are told there is none.
        post(
            f"{at}-upload-large",
            url("upload-large"),
            repo_needs(attr, 2, Expect(501)),
            lambda w, u: {"sha256": "0" * 64, "size": "1"},
        ),
        get(f"{at}-edit-card", url("edit-card"), repo_needs(attr, 2, OK)),
        post(f"{at}-edit-card", url("edit-card"), repo_needs(attr, 2, done()), _card),
        get(f"{at}-settings", url("settings"), repo_needs(attr, 3, OK)),
        get(f"{at}-rename", url("rename"), logged_in(NOT_ALLOWED)),
        post(
            f"{at}-rename",
            url("rename"),
            repo_needs(attr, 3, admin_post),
            lambda w, u: {"namespace": str(w.org.namespace_id), "name": f"{attr}-renamed"},
        ),
        get(f"{at}-visibility", url("visibility"), logged_in(NOT_ALLOWED)),
        post(
            f"{at}-visibility",
            url("visibility"),
            repo_needs(attr, 3, admin_post),
            lambda w, u: {"visibility": visibility},
        ),
        get(f"{at}-delete", url("delete"), logged_in(NOT_ALLOWED)),
        post(
            f"{at}-delete",
            url("delete"),
            repo_needs(attr, 3, admin_post),
            lambda w, u: {"confirm": getattr(w, attr).full_name},
        ),
    ]


def _doi_rows(kind: str, attr: str, failed: str, can_generate: bool) -> list[Row]:
    """Settings → DOI of one repository; ``failed`` names its DOI waiting for a retry."""
    at = f"doi-owner:{kind}"
    retry = _doi_url(attr, "retry", lambda w: getattr(w, failed).pk)
    generate = _doi_url(attr, "generate")
    edit = _doi_url(attr, "edit", lambda w: getattr(w, failed).pk)
    return [
        # The section alone is the settings page's, which it sends the browser to.
        get(f"{at}-section", _doi_url(attr, "section"), repo_needs(attr, 3, moved())),
        get(f"{at}-generate", generate, repo_needs(attr, 3, OK if can_generate else moved())),
        post(
            f"{at}-generate",
            generate,
            repo_needs(attr, 3, done() if can_generate else moved()),
            _authors,
        ),
        get(f"{at}-edit", edit, repo_needs(attr, 3, OK)),
        post(f"{at}-edit", edit, repo_needs(attr, 3, done()), _edited_record),
        get(f"{at}-retry", retry, logged_in(NOT_ALLOWED)),
        post(f"{at}-retry", retry, repo_needs(attr, 3, done())),
    ]


NEW_PASSWORD = "a long and new passphrase 7"


def _org(name: str, *args: str) -> tuple[str, Url]:
    return f"accounts:{name}", to(f"accounts:{name}", "wonderland", *args)


SITE_ROWS: list[Row] = [
    get("home", to("home"), everyone(OK)),
    get("namespace", lambda w: "/alice", everyone(OK), label="user"),
    get("namespace", lambda w: "/wonderland", everyone(OK), label="organization"),
    get("repos:models", to("repos:models"), everyone(OK)),
    get("repos:datasets", to("repos:datasets"), everyone(OK)),
    *(
        row
        for name in ("repos:new-model", "repos:new-dataset")
        for row in (
            get(name, to(name), logged_in(OK)),
            post(
                name,
                to(name),
                logged_in(done()),
                lambda w, u: {
                    "namespace": str(u.namespace_id) if u else "",
                    "name": "fresh",
                    "visibility": "public",
                },
            ),
        )
    ),
    *_repo_rows("model", "croquet"),
    *_repo_rows("dataset", "cards"),
    *_doi_rows("model", "bert", "bert_failed", can_generate=True),
    *_doi_rows("dataset", "cards", "cards_failed", can_generate=False),
    get(
        "doi:resolve", lambda w: reverse("doi:resolve", args=[w.bert_failed.doi]), everyone(moved())
    ),
    get("doi:cite", lambda w: reverse("doi:cite", args=[w.bert_failed.doi]), everyone(moved())),
    get("doi:badge", lambda w: reverse("doi:badge", args=[w.bert_failed.doi]), everyone(OK)),
    get("doi:linkset", lambda w: reverse("doi:linkset", args=[w.bert_failed.doi]), everyone(OK)),
    # A reserved DOI: its page is a 404 for everyone; its citations and Cite panel are for those
    # who may see the private repository; its badge names nothing.
    get("doi:resolve", lambda w: _draft_url(w), everyone(NOT_FOUND), label="draft"),
    get(
        "doi:resolve",
        lambda w: _draft_url(w) + "?format=bibtex",
        lambda role: OK if level(role, "hatter") >= 1 else NOT_FOUND,
        label="draft-bibtex",
    ),
    get(
        "doi:cite",
        lambda w: reverse("doi:cite", args=[w.hatter_draft.doi]),
        lambda role: moved() if level(role, "hatter") >= 1 else NOT_FOUND,
        label="draft",
    ),
    get(
        "doi:badge",
        lambda w: reverse("doi:badge", args=[w.hatter_draft.doi]),
        everyone(OK),
        label="draft",
    ),
    # Accounts: signed-in visitors are sent on from joining and logging in.
    get("accounts:join", to("accounts:join"), logged_in(moved(), anonymous=OK)),
    post(
        "accounts:join",
        to("accounts:join"),
        logged_in(moved(), anonymous=done()),
        lambda w, u: {
            "username": "newcomer",
            "email": "newcomer@example.org",
            "full_name": "New Comer",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    ),
    get("accounts:login", to("accounts:login"), logged_in(moved(), anonymous=OK)),
    post(
        "accounts:login",
        to("accounts:login"),
        logged_in(moved(), anonymous=done()),  # logging in records the time (last_login)
        lambda w, u: {"username": "mallory", "password": PASSWORD},
    ),
    get("accounts:logout", to("accounts:logout"), everyone(NOT_ALLOWED)),
    post("accounts:logout", to("accounts:logout"), everyone(moved())),
    get("accounts:profile", to("accounts:profile"), logged_in(OK)),
    post(
        "accounts:profile",
        to("accounts:profile"),
        logged_in(done()),
        lambda w, u: {"full_name": "Someone Else", "email": u.email if u else ""},
    ),
    get("accounts:password", to("accounts:password"), logged_in(OK)),
    post(
        "accounts:password",
        to("accounts:password"),
        logged_in(done()),
        lambda w, u: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    ),
    get("accounts:tokens", to("accounts:tokens"), logged_in(OK)),
    post(
        "accounts:tokens",
        to("accounts:tokens"),
        logged_in(done(200)),  # the page, showing the new token's secret once
        lambda w, u: {"name": "ci", "scope": "write"},
    ),
    get(
        "accounts:token-revoke",
        lambda w: reverse("accounts:token-revoke", args=[w.token.pk]),
        logged_in(NOT_ALLOWED),
    ),
    post(
        "accounts:token-revoke",
        lambda w: reverse("accounts:token-revoke", args=[w.token.pk]),
        only("owner", done(), NOT_FOUND),
    ),
    get("accounts:organization-new", to("accounts:organization-new"), logged_in(OK)),
    post(
        "accounts:organization-new",
        to("accounts:organization-new"),
        logged_in(done()),
        lambda w, u: {"name": "looking-glass", "display_name": "Looking Glass"},
    ),
    get(*_org("organization-settings"), org_admin_only(OK)),
    post(
        *_org("organization-settings"),
        org_admin_only(done()),
        lambda w, u: {"display_name": "Wonderland Ltd", "description": "Tea parties."},
    ),
    get(*_org("member-add"), logged_in(NOT_ALLOWED)),
    post(
        *_org("member-add"),
        org_admin_only(done()),
        lambda w, u: {"username": "viewer", "role": "read"},
    ),
    get(*_org("member-role", "carol"), logged_in(NOT_ALLOWED)),
    post(*_org("member-role", "carol"), org_admin_only(done()), lambda w, u: {"role": "write"}),
    get(*_org("member-remove", "carol"), logged_in(NOT_ALLOWED)),
    post(*_org("member-remove", "carol"), org_admin_only(done())),
    # Support requests: the requester's own pages.
    get("support:index", to("support:index"), logged_in(OK)),
    get(
        "support:new",
        lambda w: f"{reverse('support:new')}?repo={w.bert.pk}&action=visibility",
        only("owner", OK, NOT_FOUND),
    ),
    post(
        "support:new",
        lambda w: f"{reverse('support:new')}?repo={w.bert.pk}&action=visibility",
        only("owner", done(), NOT_FOUND),
        lambda w, u: {"target_visibility": "private", "reason": "It leaks a secret."},
    ),
    get(
        "support:detail",
        lambda w: reverse("support:detail", args=[w.request.pk]),
        only("owner", OK, NOT_FOUND),
    ),
]

# The API: each role sends its own write token (anonymous sends none).
API_ROWS: list[Row] = [
    api_get(
        "hubapi:whoami",
        to("hubapi:whoami"),
        lambda role: UNAUTHORIZED if role == "anonymous" else OK,
    ),
    # The session alone opens nothing in the API.
    get("hubapi:whoami", to("hubapi:whoami"), everyone(UNAUTHORIZED), label="session"),
    api_get("hubapi:unsupported", lambda w: "/api/spaces", everyone(NOT_FOUND)),
    api_post("hubapi:unsupported", lambda w: "/api/spaces", everyone(NOT_FOUND)),
    api_get("hubapi:list", lambda w: "/api/models", everyone(OK)),
    api_get("hubapi:info", lambda w: "/api/models/wonderland/croquet", repo_view("croquet")),
    api_get(
        "hubapi:info-at",
        lambda w: f"/api/datasets/wonderland/cards/revision/{w.cards.head.oid}",
        repo_view("cards"),
    ),
    api_get(
        "hubapi:tree", lambda w: "/api/models/wonderland/croquet/tree/main", repo_view("croquet")
    ),
    # croquet has no folders: a folder is not found by anyone, whether they see croquet or not.
    api_get(
        "hubapi:tree-path",
        lambda w: "/api/models/wonderland/croquet/tree/main/weights",
        everyone(NOT_FOUND),
    ),
    api_get(
        "hubapi:commits",
        lambda w: "/api/models/wonderland/croquet/commits/main",
        repo_view("croquet"),
    ),
    api_get(
        "hubapi-files:model-resolve",
        lambda w: "/wonderland/croquet/resolve/main/README.md",
        repo_view("croquet"),
    ),
    api_get(
        "hubapi-files:dataset-resolve",
        lambda w: "/datasets/wonderland/cards/resolve/main/README.md",
        repo_view("cards"),
    ),
    api_get("hubapi:dois", lambda w: "/api/models/wonderland/croquet/dois", repo_view("croquet")),
    # bert's current revision has no DOI yet: its owner mints one.
    api_post(
        "hubapi:dois",
        lambda w: "/api/models/alice/bert/dois",
        lambda role: {"anonymous": UNAUTHORIZED, "owner": done(201)}.get(role, FORBIDDEN),
        lambda w, u: {"acknowledgement": CONSENT_VERSION, "authors": [{"name": "Alice Liddell"}]},
    ),
    api_get(
        "hubapi:dois-acknowledgement",
        lambda w: "/api/models/alice/bert/dois/acknowledgement",
        lambda role: {"anonymous": UNAUTHORIZED, "owner": OK}.get(role, FORBIDDEN),
    ),
]


def _api(attr: str, page: str) -> Url:
    def url(w: World) -> str:
        repo = getattr(w, attr)
        branch = [] if page == "repo-settings" else ["main"]
        return reverse(f"hubapi:{page}", args=[repo.type, repo.namespace.name, repo.name, *branch])

    return url


def _lfs(attr: str, page: str) -> Url:
    def url(w: World) -> str:
        repo = getattr(w, attr)
        return reverse(f"hubapi-lfs:{repo.type}-{page}", args=[repo.namespace.name, repo.name])

    return url


def _lfs_complete(attr: str) -> Url:
    def url(w: World) -> str:
        repo = getattr(w, attr)
        return reverse(
            f"hubapi-lfs:{repo.type}-complete", args=[repo.namespace.name, repo.name, "unsigned"]
        )

    return url


def _commit_body(w: World, user) -> bytes:
    lines = [
        {"key": "header", "value": {"summary": "From code", "description": ""}},
        {"key": "file", "value": {"path": "n.txt", "content": "aGk=", "encoding": "base64"}},
    ]
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def _api_write_rows() -> list[Row]:
    """The write side: croquet is private and unlocked, cards public and locked by a DOI (its
    visibility stays; new commits are still allowed)."""
    rows = []
    for attr, locked in (("croquet", False), ("cards", True)):
        for page in ("repo-settings", "preupload", "commit"):
            rows.append(api_get(f"hubapi:{page}", _api(attr, page), everyone(NOT_ALLOWED), attr))
        rows += [
            api_call(
                "hubapi:repo-settings",
                "PUT",
                _api(attr, "repo-settings"),
                api_needs(attr, 3, LOCKED if locked else done(200)),
                lambda w, u, locked=locked: {"visibility": "private" if locked else "public"},
                attr,
            ),
            api_post(
                "hubapi:preupload",
                _api(attr, "preupload"),
                api_needs(attr, 2, OK),
                lambda w, u: {"files": [{"path": "n.txt", "size": 2, "sample": "aGk="}]},
                attr,
            ),
            api_post(
                "hubapi:commit",
                _api(attr, "commit"),
                api_needs(attr, 2, done(200)),
                _commit_body,
                attr,
            ),
        ]
    for attr, kind in (("croquet", "model"), ("cards", "dataset")):
        rows += [
            api_get(f"hubapi-lfs:{kind}-{page}", _lfs(attr, page), everyone(NOT_ALLOWED), attr)
            for page in ("batch", "verify")
        ] + [
            # Without an object store (the tests' default), the batch API says large files
            # need one; verify knows no announced object.
            api_post(
                f"hubapi-lfs:{kind}-batch",
                _lfs(attr, "batch"),
                api_needs(attr, 2, Expect(501)),
                lambda w, u: {"operation": "upload", "objects": []},
                attr,
            ),
            api_post(
                f"hubapi-lfs:{kind}-verify",
                _lfs(attr, "verify"),
                api_needs(attr, 2, NOT_FOUND),
                lambda w, u: {"oid": "0" * 64, "size": 1},
                attr,
            ),
            # The client completes a multipart upload without a token: the address carries a
            # signed one, which the batch API alone gives; any other is refused to everyone.
            api_get(
                f"hubapi-lfs:{kind}-complete", _lfs_complete(attr), everyone(NOT_ALLOWED), attr
            ),
            api_post(
                f"hubapi-lfs:{kind}-complete",
                _lfs_complete(attr),
                everyone(FORBIDDEN),
                lambda w, u: {"oid": "0" * 64, "parts": []},
                attr,
            ),
        ]
        rows += [
            api_get("hubapi:paths-info", _api(attr, "paths-info"), everyone(NOT_ALLOWED), attr),
            api_post(
                "hubapi:paths-info",
                _api(attr, "paths-info"),
                # Reading: a public repository answers without a token too.
                lambda role, attr=attr: OK if level(role, attr) >= 1 else NOT_FOUND,
                lambda w, u: {"paths": ["README.md"]},
                attr,
            ),
        ]
    for name in ("create-repo", "move-repo", "delete-repo", "validate-yaml"):
        rows.append(api_get(f"hubapi:{name}", to(f"hubapi:{name}"), everyone(NOT_ALLOWED)))
    org_writers = ("writer", "org_admin")
    return [
        *rows,
        api_post(
            "hubapi:create-repo",
            to("hubapi:create-repo"),
            lambda role: {"anonymous": UNAUTHORIZED}.get(
                role, done(200) if role in org_writers else FORBIDDEN
            ),
            lambda w, u: {"name": "from-code", "organization": "wonderland", "type": "model"},
        ),
        api_post(
            "hubapi:move-repo",
            to("hubapi:move-repo"),
            api_needs("croquet", 3, done(200)),
            lambda w, u: {"fromRepo": "wonderland/croquet", "toRepo": "wonderland/mallet"},
            "croquet",
        ),
        api_post(
            "hubapi:move-repo",
            to("hubapi:move-repo"),
            api_needs("bert", 3, LOCKED),
            lambda w, u: {"fromRepo": "alice/bert", "toRepo": "alice/ernie", "type": "model"},
            "bert",
        ),
        api_call(
            "hubapi:delete-repo",
            "DELETE",
            to("hubapi:delete-repo"),
            api_needs("croquet", 3, done(200)),
            lambda w, u: {"name": "croquet", "organization": "wonderland"},
            "croquet",
        ),
        api_call(
            "hubapi:delete-repo",
            "DELETE",
            to("hubapi:delete-repo"),
            api_needs("bert", 3, LOCKED),
            lambda w, u: {"name": "bert", "organization": "alice"},
            "bert",
        ),
        api_post(
            "hubapi:validate-yaml",
            to("hubapi:validate-yaml"),
            everyone(OK),
            lambda w, u: {"content": CARD},
        ),
    ]


API_ROWS += _api_write_rows()
# The site's URLs that take no POST; each of the others has a POST row above.
GET_ONLY = {
    "home",
    "namespace",
    "repos:models",
    "repos:datasets",
    *(f"repos:{kind}-{page}" for kind in ("model", "dataset") for page in ("page", "tree")),
    *(f"repos:{kind}-{page}" for kind in ("model", "dataset") for page in ("commits", "blob")),
    *(f"repos:{kind}-commit" for kind in ("model", "dataset")),
    "repos:model-settings",
    "repos:dataset-settings",
    "doi-owner:model-section",
    "doi-owner:dataset-section",
    "doi:resolve",
    "doi:cite",
    "doi:badge",
    "doi:linkset",
    "support:index",
    "support:detail",
    "hubapi:whoami",
    "hubapi:list",
    "hubapi:info",
    "hubapi:info-at",
    "hubapi:tree",
    "hubapi:tree-path",
    "hubapi:commits",
    "hubapi:dois-acknowledgement",
    "hubapi-files:model-resolve",
    "hubapi-files:dataset-resolve",
}


# The admin ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AdminModel:
    obj: Callable[[World], object]
    add: bool  # the admin offers adding at all (to a superuser)
    delete: bool  # … and deleting
    # What "delete selected" does for a superuser: delete it, or list what protects it.
    deletes: bool = True
    exists: bool = True
    # Our admins say why an action is refused (and send staff back to the list); Django's own
    # show the list again, with nothing done.
    ours: bool = True
    deleters: tuple = ("superuser",)


ADMIN_MODELS = {
    "auth.group": AdminModel(lambda w: Group.objects.get(name="Support staff"), True, True),
    # No task has run through the database backend here: the pages of one that is not there.
    "django_tasks_database.dbtaskresult": AdminModel(
        lambda w: SimpleNamespace(pk=uuid.UUID(int=7)), False, False, exists=False, ours=False
    ),
    # alice's name holds bert; wonderland's holds its repositories.
    "accounts.user": AdminModel(lambda w: w.users["owner"], True, True, deletes=False),
    "accounts.organization": AdminModel(lambda w: w.org, False, True, deletes=False),
    "accounts.namespace": AdminModel(lambda w: w.org.namespace, False, False),
    "accounts.accesstoken": AdminModel(lambda w: w.token, False, True),
    "repos.repo": AdminModel(lambda w: w.croquet, True, True),
    "repos.revision": AdminModel(lambda w: w.croquet.head, False, True),
    "repos.reporedirect": AdminModel(lambda w: w.redirect, True, True),
    "doi.doi": AdminModel(lambda w: w.bert_failed, False, False),
    "doi.consent": AdminModel(lambda w: w.bert_failed.consents.get(), False, False),
    "doi.event": AdminModel(lambda w: w.bert_failed.events.first(), False, False),
    "support.supportrequest": AdminModel(lambda w: w.request, False, False),
    # Support staff lift log-in lockouts by deleting access attempts.
    "axes.accessattempt": AdminModel(
        lambda w: w.attempt, False, True, deleters=("support_staff", "superuser")
    ),
    "axes.accesslog": AdminModel(lambda w: w.access, False, True, ours=False),
    "axes.accessfailurelog": AdminModel(lambda w: w.failure, False, True, ours=False),
}
SUPPORT_STAFF_SEES = set(ADMIN_MODELS) - {
    "auth.group",
    "accounts.accesstoken",
    "django_tasks_database.dbtaskresult",
    "axes.accesslog",
    "axes.accessfailurelog",
}
HANDLERS = ("support_staff", "superuser")


def can_view(role: str, label: str) -> bool:
    if role in ("view_only_staff", "superuser"):
        return True
    return role == "support_staff" and label in SUPPORT_STAFF_SEES


def staff(rule: Rule) -> Rule:
    """Only staff get into the admin; everyone else is sent to its login page."""
    return lambda role: rule(role) if role in STAFF else ADMIN_LOGIN


def _admin_url(label: str, page: str, with_obj: bool) -> Url:
    app, model = label.split(".")

    def url(w: World) -> str:
        args = [ADMIN_MODELS[label].obj(w).pk] if with_obj else []
        return reverse(f"admin:{app}_{model}_{page}", args=args)

    return url


def _model_rows(label: str, spec: AdminModel) -> list[Row]:
    name = "admin:{}_{}_".format(*label.split("."))

    def seen(role: str) -> Expect:
        return OK if can_view(role, label) else FORBIDDEN

    def superuser_if(offered: bool) -> Rule:
        return lambda role: OK if role == "superuser" and offered else FORBIDDEN

    def deleter(role: str) -> Expect:
        return OK if role in spec.deleters and spec.delete else FORBIDDEN

    change, history = seen, seen
    if not spec.exists:
        # An object that is not there: its pages send staff to the admin's index, saying so.
        gone = Expect(302, to=reverse("admin:index"))
        change = lambda role: gone if can_view(role, label) else FORBIDDEN  # noqa: E731
        history = everyone(gone)
    return [
        get(name + "changelist", _admin_url(label, "changelist", False), staff(seen)),
        get(name + "change", _admin_url(label, "change", True), staff(change)),
        get(name + "history", _admin_url(label, "history", True), staff(history)),
        get(name + "add", _admin_url(label, "add", False), staff(superuser_if(spec.add))),
        get(name + "delete", _admin_url(label, "delete", True), staff(deleter)),
    ]


def _action(label: str, action: str, allowed: Rule, data=None) -> Row:
    """An admin action on the model's object. Refused, it changes nothing: our admins send staff
    back to the list with a message, Django's show the list again, and staff who cannot see the
    list at all get 403."""
    spec = ADMIN_MODELS[label]

    def expect(role: str) -> Expect:
        if role not in STAFF:
            return ADMIN_LOGIN
        if not can_view(role, label):
            return FORBIDDEN
        return allowed(role) or (moved() if spec.ours else OK)

    def form(w: World, user) -> dict:
        selected = {"action": action, ACTION_CHECKBOX_NAME: [str(spec.obj(w).pk)]}
        return selected | (data or {})

    return post("", _admin_url(label, "changelist", False), expect, form, label=f"{label}-{action}")


def _delete_selected(label: str, spec: AdminModel) -> Row:
    def allowed(role: str) -> Expect | None:
        if role not in spec.deleters or not spec.delete:
            return None
        return done() if spec.deletes else OK  # else the page lists what protects it

    return _action(label, "delete_selected", allowed, {"post": "yes"})


def handlers(outcome: Expect) -> Rule:
    return lambda role: outcome if role in HANDLERS else None


CONFIRM = {"confirm": "yes", "public_reason": "Withdrawn.", "note": "Done as asked."}


def _request_page(verb: str) -> list[Row]:
    """Approve, reject or reply to one support request: GET shows the form, POST does it. Staff
    who may not are sent back to the request with a message."""
    name = f"admin:support_supportrequest_{verb}"
    url = lambda w: reverse(name, args=[w.request.pk])  # noqa: E731
    return [
        get(name, url, staff(lambda role: OK if role in HANDLERS else moved())),
        post(
            name,
            url,
            staff(lambda role: done() if role in HANDLERS else moved()),
            lambda w, u: CONFIRM,
        ),
    ]


ADMIN_ROWS: list[Row] = [
    get("admin:index", to("admin:index"), staff(everyone(OK))),
    get("admin:login", to("admin:login"), lambda role: moved() if role in STAFF else OK),
    # Logging out is a POST; others are sent to the index (and on to the login page).
    get(
        "admin:logout",
        to("admin:logout"),
        lambda role: NOT_ALLOWED if role in STAFF else Expect(302, to=reverse("admin:index")),
    ),
    get("admin:password_change", to("admin:password_change"), staff(everyone(OK))),
    get("admin:password_change_done", to("admin:password_change_done"), staff(everyone(OK))),
    get(
        "admin:autocomplete",
        lambda w: (
            reverse("admin:autocomplete")
            + "?app_label=accounts&model_name=membership&field_name=user&term=a"
        ),
        staff(everyone(OK)),
    ),
    get(
        "admin:auth_user_password_change",
        lambda w: reverse("admin:auth_user_password_change", args=[w.users["owner"].pk]),
        staff(lambda role: OK if role == "superuser" else FORBIDDEN),
    ),
    get("admin:jsi18n", to("admin:jsi18n"), staff(everyone(OK))),
    get(
        "admin:view_on_site",
        lambda w: reverse(
            "admin:view_on_site",
            args=[ContentType.objects.get_for_model(w.croquet).pk, w.croquet.pk],
        ),
        staff(everyone(Expect(302, to="http://testserver/wonderland/croquet"))),
    ),
    get("admin:app_list", to("admin:app_list", "support"), staff(everyone(OK)), label="support"),
    get(
        "admin:app_list",
        to("admin:app_list", "auth"),
        staff(lambda role: NOT_FOUND if role == "support_staff" else OK),
        label="auth",
    ),
    *(row for label, spec in ADMIN_MODELS.items() for row in _model_rows(label, spec)),
    # The usage report needs doi.download_usage_report, which only superusers have here.
    *(
        get(
            "admin:doi_doi_usage_report",
            lambda w, q=query: reverse("admin:doi_doi_usage_report") + q,
            staff(lambda role: OK if role == "superuser" else FORBIDDEN),
            label=label,
        )
        for query, label in (("", "form"), ("?month=2026-11", "download"))
    ),
    *_request_page("approve"),
    *_request_page("reject"),
    *_request_page("reply"),
    *(_delete_selected(label, spec) for label, spec in ADMIN_MODELS.items()),
    _action("doi.doi", "retry_registration", handlers(done())),
    _action("doi.doi", "resend_metadata", handlers(done())),
    # DataCite has bert's DOI, so discarding it is refused with a message even to those allowed.
    _action("doi.doi", "discard", handlers(moved())),
    _action("support.supportrequest", "approve_selected", handlers(done()), CONFIRM),
    _action("support.supportrequest", "reject_selected", handlers(done()), CONFIRM),
    # Logging in already cleans up expired attempts, so there is nothing left for it to do
    # (tests/accounts/test_admin.py shows who may run it).
    _action("axes.accessattempt", "cleanup_expired_attempts", handlers(moved())),
    _action("accounts.accesstoken", "revoke", lambda role: done() if role == "superuser" else None),
]

ROWS = [*SITE_ROWS, *API_ROWS, *ADMIN_ROWS]


# The checks -------------------------------------------------------------------------------


def _url_names() -> set[str]:
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = f"{pattern.namespace}:" if pattern.namespace else ""
                yield from walk(pattern.url_patterns, prefix + namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                yield prefix + pattern.name

    return set(walk(get_resolver().url_patterns))


def test_every_url_has_a_row():
    names = _url_names()
    covered = {row.name for row in ROWS if row.method == "GET"}
    assert names - covered == set(), "a URL without a GET row in the matrix"
    assert covered - names == set(), "a row for a URL that is gone"
    posted = {row.name for row in ROWS if row.method != "GET"}
    site = {name for name in names if not name.startswith("admin:")}
    assert site - posted - GET_ONLY == set(), "a URL with neither a POST row nor a GET_ONLY place"


def test_every_admin_action_has_a_row():
    actions = {
        f"{model._meta.label_lower}-{action.name}"
        for model, model_admin in admin.site._registry.items()
        for action in model_admin._get_base_actions()
    }
    assert actions == {row.label for row in ROWS if row.name == ""}
    assert {model._meta.label_lower for model in admin.site._registry} == set(ADMIN_MODELS)


CELLS = [pytest.param(row, role, id=f"{row.id}-{role}") for row in ROWS for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CELLS)
def test_cell(world, db, client, row: Row, role: str):
    user = world.users.get(role)
    headers = {}
    if user is not None and row.token:
        # Noted as just used: the request's own note of its use (once a minute at most) is
        # not a change the request made.
        token, secret = AccessToken.issue(user=user, name="matrix", scope="write")
        AccessToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
        headers["Authorization"] = f"Bearer {secret}"
    elif user is not None:
        client.force_login(user)
    url = row.url(world)
    data = row.data(world, user) if row.data else {}
    expected = row.expect(role)
    before = _snapshot()
    if row.method == "GET":
        response = client.get(url, headers=headers)
    elif row.token:  # the API takes JSON, and a commit NDJSON
        ndjson = isinstance(data, bytes)
        body = data if ndjson else json.dumps(data)
        kind = "application/x-ndjson" if ndjson else "application/json"
        response = client.generic(row.method, url, body, content_type=kind, headers=headers)
    else:
        response = client.post(url, data, headers=headers)
    assert response.status_code == expected.status, (url, getattr(response, "url", ""))
    if expected.to == "login":
        assert response.url.startswith(reverse(settings.LOGIN_URL) + "?next=")
    elif expected.to == "admin-login":
        assert response.url.startswith(reverse("admin:login") + "?next=")
    elif expected.to:
        assert response.url.startswith(expected.to), response.url
    if expected.changed is not None:
        assert (_snapshot() != before) == expected.changed
