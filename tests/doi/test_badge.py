"""/doi/badge/<doi>.svg: the DOI badge, and the snippets the Cite panel offers for it."""

from __future__ import annotations

import lxml.html
import pytest
from django.urls import reverse
from django.utils import timezone
from lxml import etree
from markdown_it import MarkdownIt

from doi import badges
from doi.models import Doi
from repos.models import lock_override

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def version(repo, mint) -> Doi:
    doi = mint(repo)
    doi.refresh_from_db()
    return doi


def badge_url(doi: Doi | str) -> str:
    return reverse("doi:badge", args=[doi.doi if isinstance(doi, Doi) else doi])


def texts(response) -> list[str]:
    """The text the badge shows, read with an XML parser (which fails on a malformed SVG)."""
    root = etree.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    return [t.text for t in root.iter(f"{SVG}text") if t.get("fill-opacity") is None]


def width(response) -> int:
    return int(etree.fromstring(response.content).get("width"))


@pytest.mark.smoke
def test_it_serves_a_findable_dois_badge_in_place(client, version):
    assert version.state == Doi.State.FINDABLE
    response = client.get(badge_url(version))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml; charset=utf-8"
    assert texts(response) == ["DOI", version.doi]
    assert badges.FINDABLE_COLOR in response.content.decode()


def test_it_is_cacheable_and_answers_a_revalidation_with_304(client, version):
    response = client.get(badge_url(version))
    cache_control = {d.strip() for d in response["Cache-Control"].split(",")}
    assert cache_control == {"public", "max-age=3600"}
    etag = response["ETag"]
    assert etag.startswith('W/"')

    again = client.get(badge_url(version), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again["ETag"] == etag
    assert again.content == b""


def test_the_etag_changes_when_the_badge_does(client, version):
    before = client.get(badge_url(version))["ETag"]
    Doi.objects.filter(pk=version.pk).update(remote_state=Doi.RemoteState.REGISTERED)
    response = client.get(badge_url(version), headers={"If-None-Match": before})
    assert response.status_code == 200
    assert response["ETag"] != before


def test_the_concept_has_its_own_badge(client, version):
    response = client.get(badge_url(version.concept))
    assert texts(response) == ["DOI", version.concept.doi]


def test_any_accepted_form_of_the_doi_gets_the_badge_without_a_redirect(client, version):
    response = client.get(badge_url(version.doi.upper()))
    assert response.status_code == 200
    assert texts(response) == ["DOI", version.doi]


def test_its_width_follows_the_text(client, version):
    short = client.get(badge_url(version))
    Doi.objects.filter(pk=version.pk).update(doi=f"{version.doi}-much-longer")
    longer = client.get(badge_url(f"{version.doi}-much-longer"))
    assert width(longer) > width(short)


@pytest.mark.parametrize(
    ("change", "caveat"),
    [
        ({"remote_state": Doi.RemoteState.REGISTERED}, "hidden"),
        ({"remote_state": Doi.RemoteState.NONE}, "pending"),
        ({"remote_state": Doi.RemoteState.NONE, "error_is_permanent": True}, "not registered"),
    ],
)
def test_a_doi_that_is_not_findable_says_so(client, version, change, caveat):
    Doi.objects.filter(pk=version.pk).update(**change)
    response = client.get(badge_url(version))
    assert response.status_code == 200
    assert texts(response) == ["DOI", f"{version.doi} ({caveat})"]
    assert badges.FINDABLE_COLOR not in response.content.decode()


def test_a_removed_repositorys_doi_says_removed(client, repo, version):
    type(repo).objects.filter(pk=repo.pk).update(removed_at=timezone.now(), head=None)
    assert texts(client.get(badge_url(version))) == ["DOI", f"{version.doi} (removed)"]


def test_a_private_repositorys_doi_has_a_badge_like_its_public_page(client, repo, version, staff):
    # /doi/<doi> shows a private repository's DOI to anyone (it is public at DataCite), without
    # naming the repository; the badge names nothing more than the DOI either.
    with lock_override(actor=staff, reason="test: made private by staff"):
        repo.set_private(True)
    assert client.get(reverse("doi:resolve", args=[version.doi])).status_code == 200
    response = client.get(badge_url(version))
    assert texts(response) == ["DOI", version.doi]
    assert repo.name not in response.content.decode()


def test_an_unknown_or_discarded_doi_has_no_badge(client, version):
    assert client.get(badge_url("10.5072/hub/9999")).status_code == 404
    Doi.objects.filter(pk=version.pk).update(discarded_at=timezone.now())
    assert client.get(badge_url(version)).status_code == 404


def test_it_refuses_post(client, version):
    assert client.post(badge_url(version)).status_code == 405


def test_text_that_is_markup_is_escaped_and_the_svg_stays_well_formed(client, version):
    hostile = '10.5072/<script>alert("x")</script>&amp;'
    Doi.objects.filter(pk=version.pk).update(doi=hostile)
    response = client.get(reverse("doi:badge", args=[hostile]))
    assert response.status_code == 200
    assert texts(response) == ["DOI", hostile]
    assert b"<script" not in response.content


# The snippets -----------------------------------------------------------------------------


def test_the_snippets_link_the_badge_to_doi_org(version):
    image = f"https://hub.example.org/doi/badge/{version.doi}.svg"
    link = f"https://doi.org/{version.doi}"
    snippets = {name: text for name, _, text in badges.snippets(version)}
    assert snippets["markdown"] == f"[![DOI {version.doi}]({image})]({link})"
    assert snippets["rst"] == f".. image:: {image}\n   :alt: DOI {version.doi}\n   :target: {link}"
    html = lxml.html.fragment_fromstring(snippets["html"])
    assert html.get("href") == link
    assert dict(html.find("img").attrib) == {"src": image, "alt": f"DOI {version.doi}"}


def test_before_datacite_has_it_the_snippets_link_to_the_hubs_page(version):
    Doi.objects.filter(pk=version.pk).update(remote_state=Doi.RemoteState.NONE)
    version.refresh_from_db()
    markdown = badges.snippets(version)[0][2]
    assert markdown.endswith(f"(https://hub.example.org/doi/{version.doi})")


def test_markdown_snippet_survives_brackets_and_parentheses_in_the_doi(version):
    odd = "10.5072/a(b)[c]"
    Doi.objects.filter(pk=version.pk).update(doi=odd)
    version.refresh_from_db()
    markdown = badges.snippets(version)[0][2]
    # Read back with a CommonMark parser: one link around one image, nothing left over.
    link = etree.fromstring(MarkdownIt().render(markdown)).find("a")
    assert link.get("href") == "https://doi.org/10.5072/a%28b%29%5Bc%5D"
    assert dict(link.find("img").attrib) == {
        "src": "https://hub.example.org/doi/badge/10.5072/a%28b%29%5Bc%5D.svg",
        "alt": "DOI 10.5072/a(b)[c]",
    }


def test_the_landing_page_offers_the_snippets(client, repo, version):
    type(repo).objects.filter(pk=repo.pk).update(removed_at=timezone.now(), head=None)
    html = client.get(reverse("doi:resolve", args=[version.doi])).content.decode()
    assert f'src="/doi/badge/{version.doi}.svg"' in html
    assert f"[![DOI {version.doi}](https://hub.example.org/doi/badge/{version.doi}.svg)]" in html
    assert "Copy badge as reStructuredText" in html
    # The HTML snippet is shown as text: its only <img> is the preview.
    assert html.count("<img ") == 1
    assert f"&lt;img src=&quot;https://hub.example.org/doi/badge/{version.doi}.svg&quot;" in html
