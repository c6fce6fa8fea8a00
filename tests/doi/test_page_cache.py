"""The DOI's cached pieces (the tag and Cite panel, citations at /doi/<doi>): whatever changes a
DOI's row shows on the next request, with each cache backend the site supports; and what the
DOI costs the pages in queries, however many versions there are."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from doi.models import Doi
from repos.models import Repo, lock_override
from tests.doi.test_repo_header import new_revision, page, tag
from tests.factories import RepoFactory

each_backend = pytest.mark.usefixtures("cache_backend")
BIBTEX = {"HTTP_ACCEPT": "application/x-bibtex"}
APA = {"HTTP_ACCEPT": "text/x-bibliography"}


@each_backend
def test_registration_at_datacite_shows_on_the_next_request(client, repo, mint, datacite):
    datacite.go_down()
    doi = mint(repo)
    html = page(client, repo)
    assert tag(html) == f"{doi.doi} -> /doi/{doi.doi}"
    assert "registration pending" in html
    datacite.come_back()
    Doi.objects.push(doi.pk)  # as doi_sync would, in another process
    html = page(client, repo)
    assert tag(html) == f"{doi.doi} -> https://doi.org/{doi.doi}"
    assert "registration pending" not in html and "Registration with DataCite" not in html


@each_backend
def test_a_failure_stored_by_another_process_shows_on_the_next_request(client, repo, mint):
    doi = mint(repo)
    assert "registration failed" not in page(client, repo)
    Doi.objects.filter(pk=doi.pk).update(remote_state=Doi.RemoteState.NONE, error_is_permanent=True)
    assert '<span class="badge danger">registration failed</span>' in page(client, repo)


@each_backend
def test_a_new_version_doi_shows_on_the_next_request(client, repo, owner, mint):
    first = mint(repo)
    assert tag(page(client, repo)).startswith(f"{first.doi} ->")
    first_revision = repo.head
    new_revision(repo, owner, "v2")
    assert tag(page(client, repo)).startswith(f"{first.doi} ->")  # the head has none yet
    second = mint(repo)
    assert tag(page(client, repo)).startswith(f"{second.doi} ->")
    assert "doi-outdated" in page(client, repo, first_revision)


@each_backend
def test_a_change_to_an_older_revisions_doi_shows_on_its_page_at_once(client, repo, owner, mint):
    first = mint(repo)
    first_revision = repo.head
    new_revision(repo, owner, "v2")
    mint(repo)
    assert "registration failed" not in page(client, repo, first_revision)
    Doi.objects.filter(pk=first.pk).update(
        remote_state=Doi.RemoteState.NONE, error_is_permanent=True
    )
    html = page(client, repo, first_revision)
    assert tag(html).startswith(f"{first.doi} ->") and "registration failed" in html
    assert "registration failed" not in page(client, repo)  # the current revision's is fine


@each_backend
def test_a_discarded_doi_goes_from_the_page_at_once(client, repo, mint):
    doi = mint(repo)
    assert "doi-tag" in page(client, repo)
    Doi.objects.filter(repo=repo).update(discarded_at=doi.created_at)
    assert "doi-tag" not in page(client, repo)


def renamed_with_new_metadata(repo, staff, django_capture_on_commit_callbacks) -> None:
    """Staff rename the DOI-locked repository and send its metadata to DataCite again."""
    with lock_override(actor=staff, reason="test: renamed by staff"):
        repo.move(namespace=repo.namespace, name="sentiment-v2")
    with django_capture_on_commit_callbacks(execute=True):
        for doi in Doi.objects.filter(repo=repo):
            doi.resend_metadata(actor=staff)


@each_backend
def test_new_metadata_shows_in_the_cite_panel_on_the_next_request(
    client, repo, staff, mint, django_capture_on_commit_callbacks
):
    mint(repo)
    assert "title = {sentiment-model (Revision" in page(client, repo)
    renamed_with_new_metadata(repo, staff, django_capture_on_commit_callbacks)
    html = page(client, repo)
    assert "title = {sentiment-v2 (Revision" in html and "sentiment-model" not in html


@each_backend
def test_new_metadata_shows_in_negotiated_citations_on_the_next_request(
    client, repo, staff, mint, django_capture_on_commit_callbacks
):
    doi = mint(repo)
    assert "sentiment-model" in client.get(f"/doi/{doi.doi}", **BIBTEX).text
    assert "sentiment-model" in client.get(f"/doi/{doi.doi}", **APA).text
    assert "sentiment-model" in client.get(f"/doi/{doi.doi}?format=cff").text
    renamed_with_new_metadata(repo, staff, django_capture_on_commit_callbacks)
    for headers in (BIBTEX, APA):
        text = client.get(f"/doi/{doi.doi}", **headers).text
        assert "sentiment-v2" in text and "sentiment-model" not in text
    assert "title: sentiment-v2" in client.get(f"/doi/{doi.doi}?format=cff").text


@each_backend
def test_a_new_record_shows_in_the_page_head_on_the_next_request(client, repo, mint):
    concept = mint(repo).concept
    assert '<meta name="citation_title" content="sentiment-model">' in page(client, repo)
    metadata = {**concept.metadata, "titles": [{"title": "A better title"}]}
    Doi.objects.filter(pk=concept.pk).update(metadata=metadata)  # as another process would
    html = page(client, repo)
    assert '<meta name="citation_title" content="A better title">' in html
    assert '<meta name="citation_title" content="sentiment-model">' not in html


@each_backend
def test_a_discarded_concept_leaves_the_citation_file_at_once(client, repo, mint):
    doi = mint(repo)
    assert f"value: {doi.concept.doi}" in client.get(f"/doi/{doi.doi}?format=cff").text
    Doi.objects.filter(pk=doi.concept_id).update(discarded_at=doi.created_at)
    assert "identifiers" not in client.get(f"/doi/{doi.doi}?format=cff").text


@each_backend
def test_the_redirect_follows_a_rename_on_the_next_request(client, repo, staff, mint):
    doi = mint(repo)
    assert client.get(f"/doi/{doi.doi}").url == repo.head.get_absolute_url()
    with lock_override(actor=staff, reason="test: renamed by staff"):
        repo.move(namespace=repo.namespace, name="sentiment-v2")
    assert client.get(f"/doi/{doi.doi}").url.startswith("/alice/sentiment-v2/tree/")


@each_backend
def test_a_visibility_change_shows_at_the_doi_on_the_next_request(client, repo, staff, mint):
    doi = mint(repo)
    assert client.get(f"/doi/{doi.doi}").status_code == 302
    with lock_override(actor=staff, reason="test: made private by staff"):
        repo.set_private(True)
    response = client.get(f"/doi/{doi.doi}")
    assert response.status_code == 200 and "/alice/sentiment-model" not in response.text
    assert client.get(repo.get_absolute_url()).status_code == 404


@each_backend
def test_each_choice_of_the_panel_is_its_own_piece(client, repo, mint):
    doi = mint(repo)
    assert '<details class="cite" id="cite">' in page(client, repo)
    html = page(client, repo, query="?cite=all")
    assert '<details class="cite" id="cite" open>' in html
    assert "title = {sentiment-model}," in html
    assert f"title = {{sentiment-model (Revision {doi.revision.short_oid})}}," in page(
        client, repo, query="?cite=version"
    )


# What the page is keyed on: a DOI's row version ------------------------------------------------


def stored_version(doi: Doi) -> int:
    return Doi.objects.values_list("row_version", flat=True).get(pk=doi.pk)


def test_every_way_of_changing_a_doi_raises_its_row_version(repo, mint):
    doi = mint(repo)
    seen = [stored_version(doi)]
    doi.last_error = "first"
    doi.save()
    assert doi.row_version == stored_version(doi)  # read back, not left an expression
    seen.append(doi.row_version)
    doi.last_error = "second"
    doi.save(update_fields=["last_error"])
    seen.append(doi.row_version)
    Doi.objects.filter(pk=doi.pk).update(attempts=3)
    seen.append(stored_version(doi))
    fresh = Doi.objects.get(pk=doi.pk)
    fresh.view_count = 5
    Doi.objects.bulk_update([fresh], ["view_count"])
    seen.append(stored_version(doi))
    assert seen == sorted(set(seen)), seen  # raised by each, never the same twice


def test_two_writers_of_the_same_copy_each_get_their_own_row_version(repo, mint):
    doi = mint(repo)
    first, second = Doi.objects.get(pk=doi.pk), Doi.objects.get(pk=doi.pk)
    first.last_error = "one"
    first.save(update_fields=["last_error"])
    second.last_error = "another"
    second.save(update_fields=["last_error"])
    assert second.row_version == first.row_version + 1 == stored_version(doi)


def test_saving_nothing_leaves_the_row_version(repo, mint):
    doi = mint(repo)
    before = stored_version(doi)
    doi.save(update_fields=[])
    assert stored_version(doi) == before


# What the DOI costs -------------------------------------------------------------------------


def count(client, url: str, **headers) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, **headers).status_code in (200, 302)
    return len(queries)


@pytest.mark.parametrize("versions", [0, 1, 50])
def test_the_repository_page_costs_the_same_queries_with_any_number_of_dois(
    client, repo, owner, mint, settings, versions
):
    settings.DOI_QUOTA_PER_REPO_PER_DAY = settings.DOI_QUOTA_PER_USER_PER_DAY = 0
    for n in range(versions):
        if n:
            new_revision(repo, owner, f"v{n}")
        mint(repo)
    url = repo.get_absolute_url()
    for member in (False, True):
        if member:
            client.force_login(owner)
        assert ("doi-tag" in page(client, repo)) == bool(versions)
        # The repository with its owner and head, and which DOIs its page shows, at which row
        # version (what the cached page is keyed on); a member adds the session and the user.
        assert count(client, url) == 1 + 2 * member
        cache.clear()
        # When not cached: the files, and the DOIs themselves (one query for every slot).
        assert count(client, url) == 2 + bool(versions) + 2 * member


def doi_rows_read(queries: list[tuple[str, list]]) -> int:
    """How many rows of DOIs PostgreSQL reads to run ``queries`` (SQL and parameters, as sent)
    the way it runs a query prepared on a connection: one generic plan, whatever the values."""
    types = {bool: "boolean", int: "bigint", str: "text"}  # in this order: a bool is an int
    read = 0
    with connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_generic_plan")
        for sql, params in queries:
            first, *rest = sql.split("%s")
            numbered = first + "".join(f"${n}{text}" for n, text in enumerate(rest, 1))
            statement = numbered.replace("%%", "%")
            kinds = ", ".join(next(t for k, t in types.items() if isinstance(p, k)) for p in params)
            cursor.execute(f"PREPARE counted ({kinds}) AS {statement}")
            values = ", ".join(["%s"] * len(params))
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE counted ({values})", params)
            plan = cursor.fetchone()[0]
            cursor.execute("DEALLOCATE counted")
            read += _doi_rows(plan[0]["Plan"])
        cursor.execute("RESET plan_cache_mode")
    return read


def _doi_rows(node: dict) -> int:
    here = 0
    if node.get("Relation Name") == "doi_doi":
        kept_and_dropped = node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
        here = kept_and_dropped * node["Actual Loops"]
    return here + sum(_doi_rows(child) for child in node.get("Plans", ()))


def page_queries(client, url: str) -> list[tuple[str, list]]:
    sent = []

    def keep(execute, sql, params, many, context):
        sent.append((sql, list(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        assert client.get(url).status_code == 200
    return [(sql, params) for sql, params in sent if "doi_doi" in sql]


def as_on_a_hub_with_many_dois(repos: int, each: int) -> None:
    """Add ``repos`` other repositories with ``each`` DOIs, copies of the last DOI, and have
    PostgreSQL gather the table's statistics: on a test's few rows, reading the whole table can
    be its cheapest plan, and which index it uses a toss-up; on a real hub's, never."""
    namespace = RepoFactory().namespace
    others = Repo.objects.bulk_create(
        Repo(namespace=namespace, name=f"other-{n}") for n in range(repos)
    )
    columns = [f.column for f in Doi._meta.concrete_fields if not f.primary_key]
    copied = {"doi": "'10.0/other-' || n", "number": "1000000 + n"}
    copied |= {"repo_id": "(%s::bigint[])[1 + n %% %s]", "revision_id": "NULL"}
    copied |= {"kind": "'version'", "concept_id": "NULL"}
    values = ", ".join(copied.get(column, f'"{column}"') for column in columns)
    names = ", ".join(f'"{column}"' for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO doi_doi ({names}) SELECT {values}"  # noqa: S608 (the model's columns)
            " FROM doi_doi, generate_series(1, %s) AS n WHERE id = %s",
            [[r.pk for r in others], repos, repos * each, Doi.objects.latest("pk").pk],
        )
        cursor.execute("ANALYZE doi_doi")


def test_the_repository_pages_queries_read_the_same_dois_however_many_versions(
    client, owner, mint, settings
):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's plans of prepared queries")
    settings.DOI_QUOTA_PER_REPO_PER_DAY = settings.DOI_QUOTA_PER_USER_PER_DAY = 0
    pages = {}
    for versions in (2, 50):
        repo = RepoFactory(namespace=owner.namespace, name=f"model-{versions}")
        first = new_revision(repo, owner, "v0")
        mint(repo)
        for n in range(1, versions):
            new_revision(repo, owner, f"v{n}")
            mint(repo)
        pages[versions, False] = repo.get_absolute_url()
        pages[versions, True] = first.get_absolute_url()
    as_on_a_hub_with_many_dois(2_000, each=10)
    read = {}
    for key, url in pages.items():
        cold = page_queries(client, url)  # which DOIs it shows, and the DOIs themselves
        warm = page_queries(client, url)  # which DOIs it shows
        read[key] = (doi_rows_read(cold), doi_rows_read(warm))
    # The concept and the latest version (and on an older revision, its own), each found in
    # one step: never all the versions down to the concept, as an index on the repository's
    # DOIs by number alone would have PostgreSQL do.
    for older in (False, True):
        assert read[50, older] == read[2, older], read
    assert read[2, False][1] == 2  # the concept's and the latest version's rows, read once


def test_an_older_revisions_page_reads_which_dois_it_shows_in_one_query(client, repo, owner, mint):
    first = mint(repo)
    first_revision = repo.head
    new_revision(repo, owner, "v2")
    mint(repo)
    url = first_revision.get_absolute_url()
    assert "doi-outdated" in client.get(url).text
    # The repository, the revision, and which DOIs its page shows (not read with the
    # repository, which reads the current revision's).
    assert count(client, url) == 3
    assert first.doi in client.get(url).text


def test_the_doi_redirect_and_negotiation_cost_one_query(client, repo, mint):
    doi = mint(repo)
    url = f"/doi/{doi.doi}"
    cache.clear()
    assert count(client, url) == 1
    assert count(client, url) == 1
    for headers in (BIBTEX, APA):
        cache.clear()
        # What the citation varies on, and the whole row to make it.
        assert count(client, url, **headers) == 2
        # Then only what it varies on: no document, however many versions the DOI lists.
        assert count(client, url, **headers) == 1


@each_backend
def test_metadata_stored_by_another_process_shows_in_negotiated_citations_at_once(
    client, repo, mint
):
    doi = mint(repo)
    for headers in (BIBTEX, APA):
        assert "sentiment-model" in client.get(f"/doi/{doi.doi}", **headers).text
    metadata = {**doi.metadata, "titles": [{"title": "A better title"}]}
    Doi.objects.filter(pk=doi.pk).update(metadata=metadata)
    for headers in (BIBTEX, APA):
        text = client.get(f"/doi/{doi.doi}", **headers).text
        assert "A better title" in text and "sentiment-model" not in text


@each_backend
def test_registration_at_datacite_shows_in_negotiated_citations_at_once(
    client, repo, mint, datacite, settings
):
    datacite.go_down()
    doi = mint(repo)
    response = client.get(f"/doi/{doi.doi}", **BIBTEX)
    assert response.status_code == 200 and "Link" not in response.headers
    datacite.come_back()
    Doi.objects.push(doi.pk)  # as doi_sync would, in another process
    response = client.get(f"/doi/{doi.doi}", **BIBTEX)
    describes = f'<{settings.SITE_URL}{repo.head.get_absolute_url()}>; rel="describes"'
    assert describes in response.headers["Link"]


@each_backend
def test_a_rename_shows_in_the_citations_link_header_at_once(client, repo, staff, mint):
    doi = mint(repo)
    assert "/alice/sentiment-model/tree/" in client.get(f"/doi/{doi.doi}", **APA)["Link"]
    with lock_override(actor=staff, reason="test: renamed by staff"):
        repo.move(namespace=repo.namespace, name="sentiment-v2")
    link = client.get(f"/doi/{doi.doi}", **APA)["Link"]
    assert "/alice/sentiment-v2/tree/" in link and "sentiment-model" not in link


@each_backend
def test_a_discarded_doi_has_no_citation_at_once(client, repo, mint):
    doi = mint(repo)
    assert client.get(f"/doi/{doi.doi}", **APA).status_code == 200
    Doi.objects.filter(pk=doi.pk).update(discarded_at=doi.created_at)
    assert client.get(f"/doi/{doi.doi}", **APA).status_code == 404


@each_backend
def test_a_citation_asked_in_another_case_leads_to_the_canonical_name(client, repo, mint):
    doi = mint(repo)
    for _ in range(2):  # rendered, then cached
        response = client.get(f"/doi/{doi.doi.upper()}?format=bibtex")
        assert response.status_code == 301
        assert response.url == f"/doi/{doi.doi}?format=bibtex"
