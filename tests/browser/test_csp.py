"""Every page a person reaches keeps to the Content-Security-Policy (no inline script or style,
nothing from other sites) and still works: the ``page`` fixture fails any browser test whose
pages break a rule, so the other browser tests (sign-up to deletion, Generate DOI with its
preview and author rows, the Cite panel, the locked-by-DOI flow) prove their flows too. This
module adds the pages they do not visit, the admin among them."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.template.loader import render_to_string
from django.urls import reverse
from playwright.sync_api import Page, expect

from doi.models import Consent, Doi, Event
from repos.models import RepoRedirect, lock_override
from support.models import SupportRequest
from tests.factories import RepoFactory, UserFactory, commit_files, mint_doi
from tests.pages import log_in, shoot

pytestmark = pytest.mark.django_db(transaction=True)

CARD = (
    "---\nlicense: apache-2.0\n---\n# Bert\n\nReads moods.\n\n"
    "![training loss](http://127.0.0.1:9/loss.png)\n"
)


def test_html_pages_send_a_strict_policy(client):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert re.fullmatch(r"'self'( 'nonce-[\w+/=-]+')?", directives["script-src"])
    assert directives["style-src"].startswith("'self'")
    assert directives["img-src"] == "'self' data:"
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_the_server_error_page_has_no_inline_style():
    # It is rendered without a request, so it could not carry the page's nonce.
    html = render_to_string("500.html")
    assert "<style" not in html and "style=" not in html
    assert 'href="/static/css/error.css"' in html


def test_the_policy_blocks_inline_scripts_and_remote_images(page: Page, csp_violations):
    page.goto("/")
    page.evaluate(
        """() => {
          const img = document.createElement("img");
          img.src = "http://127.0.0.1:9/tracker.png";  // another origin: nothing listens there
          document.body.append(img);
          const script = document.createElement("script");
          script.textContent = "window.ran = true";
          document.body.append(script);
        }"""
    )
    page.wait_for_function("() => window.__hubCspCount >= 2")
    assert page.evaluate("() => window.ran") is None
    page.evaluate("0")
    assert any("img-src blocked http://127.0.0.1:9/tracker.png" in v for v in csp_violations)
    assert any("script-src-elem blocked inline" in v for v in csp_violations)
    csp_violations.clear()  # seen: the fixture's check is for the site's own pages


@pytest.fixture
def site(owner, org, staff, settings):
    """A public model with a DOI, a private one with a DOI, a dataset, a support request."""
    settings.DOI_REGISTRAR = "local"
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    bert = RepoFactory(namespace=owner.namespace, name="bert")
    commit_files(bert, owner, {"README.md": CARD, "config.json": "{}"})
    secret = RepoFactory(namespace=org.namespace, name="secret")
    commit_files(secret, owner, {"README.md": CARD})
    for repo in (bert, secret):
        mint_doi(repo, owner)
    with lock_override(actor=staff, reason="test: made private by staff"):
        secret.set_private(True)
        secret.move(namespace=secret.namespace, name="hidden")  # leaves a redirect behind
    RepoFactory(namespace=org.namespace, name="squad", type="dataset")
    request = SupportRequest.file(repo=bert, requester=owner, action="delete", reason="Wrong.")
    UserFactory(username="dodo")
    return {"bert": bert, "secret": secret, "request": request}


def visit(page: Page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response.status == status, url
    page.evaluate("0")


def test_public_and_account_pages_work_under_the_policy(
    page: Page, screenshot, site, csp_violations
):
    bert, secret = site["bert"], site["secret"]
    for url in ["/", "/models", "/datasets", "/alice", "/wonderland", "/login", "/join"]:
        visit(page, url)
    visit(page, bert.url("commits"))
    visit(page, reverse("repos:model-blob", args=["alice", "bert", bert.head.oid, "config.json"]))
    visit(page, f"/doi/{Doi.objects.get(repo=secret, kind='version').doi}")  # the DOI's page
    visit(page, "/no-such-page", 404)

    # The card's remote image is a link, and nothing was fetched from elsewhere.
    visit(page, bert.url("page"))
    expect(
        page.get_by_role("link", name="External image (127.0.0.1): training loss")
    ).to_be_visible()
    shoot(page, screenshot, "csp-card-external-image")

    # The listing's search swaps results in with htmx as one types.
    page.goto("/datasets")
    page.get_by_label(re.compile("^Search datasets")).fill("squ")
    expect(page).to_have_url(re.compile(r"search=squ"))
    expect(page.get_by_role("link", name="wonderland/squad")).to_be_visible()

    log_in(page, "alice")
    for url in [
        "/settings/profile",
        "/settings/password",
        "/organizations/new",
        "/new",
        "/new-dataset",
        bert.url("upload"),
        bert.url("edit-card"),
        bert.url("settings"),
        secret.url("page"),
        reverse("support:index"),
        site["request"].get_absolute_url(),
        f"{reverse('support:new')}?repo={bert.pk}&action=rename",
    ]:
        visit(page, url, 200)

    # The members list of an organization changes in place (htmx), confirm dialog included.
    page.goto("/organizations/wonderland/settings")
    page.get_by_label("Username").fill("dodo")
    page.get_by_role("button", name="Add member").click()
    members = page.locator("#members")
    expect(members).to_contain_text("dodo")
    members.locator("#role-dodo").select_option("admin")
    members.get_by_role("button", name="Change role of dodo").click()
    expect(members.get_by_text("dodo is now admin.")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    members.get_by_role("button", name="Remove dodo").click()
    expect(members.get_by_text("Removed dodo")).to_be_visible()
    expect(members.locator("#role-dodo")).to_have_count(0)
    shoot(page, screenshot, "csp-organization-members")
    page.evaluate("0")
    assert not csp_violations


def admin_urls(objects: list) -> list[str]:
    """Every changelist and add page of the admin, and the change page of each object given."""
    urls = ["/admin/"]
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls.append(reverse("admin:{}_{}_changelist".format(*info)))
        urls.append(reverse("admin:{}_{}_add".format(*info)))
    for obj in objects:
        info = (obj._meta.app_label, obj._meta.model_name)
        urls.append(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    return urls


def test_admin_pages_work_under_the_policy(
    page: Page, screenshot, site, owner, org, csp_violations
):
    doi = Doi.objects.filter(repo=site["bert"], kind="version").get()
    objects = [
        site["bert"],
        site["bert"].head,
        doi,
        Consent.objects.get(doi=doi),
        Event.objects.filter(doi=doi).first(),
        site["request"],
        owner,
        owner.namespace,
        org,
        *Group.objects.all(),
        *RepoRedirect.objects.all(),
    ]
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill("correct horse battery staple")
    page.get_by_role("button", name="Log in").click()
    expect(
        page.get_by_role("link", name="Log out").or_(page.get_by_text("Log out"))
    ).to_be_visible()
    for url in admin_urls(objects):
        response = page.goto(url)
        assert response.status in (200, 403), url  # 403: a page no one may use (add a DOI)
        page.evaluate("0")
    # The support request's own staff pages: approve (confirmation) and the filter sidebar.
    page.goto(reverse("admin:support_supportrequest_change", args=[site["request"].pk]))
    page.get_by_role("link", name="Approve and carry out").click()
    expect(page.get_by_role("button", name="Approve and carry out")).to_be_visible()
    shoot(page, screenshot, "csp-admin-approve")
    page.evaluate("0")
    assert not csp_violations
