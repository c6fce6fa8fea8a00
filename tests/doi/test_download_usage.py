"""Downloads counted as COUNTER requests of the DOI naming their revision (``doi/usage.py``):
the site's file view as regular access, the Hub API's ``resolve`` as machine access, through
``repos.signals.downloaded`` (repos knows nothing of DOIs)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doi import usage
from doi.models import Doi, DoiUsageDay
from tests.factories import commit_files

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
# What huggingface_hub 2.x sends: COUNTER's robots list matches its "python/…".
HF_HUB = "huggingface_hub/2.4.0; python/3.12.1; torch/2.5.0"
REGULAR, MACHINE = DoiUsageDay.AccessMethod.REGULAR, DoiUsageDay.AccessMethod.MACHINE


@pytest.fixture
def doi(repo, mint, datacite):
    doi = mint(repo)
    doi.refresh_from_db()
    assert doi.state == Doi.State.FINDABLE
    return doi


def _file(client, doi, path="config.json", agent=BROWSER, ip="192.0.2.1", rev=None):
    url = doi.repo.url("blob", rev or doi.revision_oid, path)
    return client.get(url, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)


def _resolve(client, doi, path="config.json", method="get", rev=None, ip="192.0.2.1"):
    url = doi.repo.url("hubapi-files:resolve", rev or doi.revision_oid, path)
    return getattr(client, method)(url, HTTP_USER_AGENT=HF_HUB, REMOTE_ADDR=ip)


def _counts(doi, method=REGULAR):
    """(total investigations, unique investigations, total requests, unique requests)."""
    row = DoiUsageDay.objects.get(doi=doi, day=timezone.localdate(), access_method=method)
    return (
        row.total_investigations,
        row.unique_investigations,
        row.total_requests,
        row.unique_requests,
    )


def test_a_file_downloaded_on_the_site_is_a_regular_request_of_the_doi(client, doi):
    assert _file(client, doi).status_code == 200
    assert _counts(doi) == (1, 1, 1, 1)
    assert not DoiUsageDay.objects.filter(access_method=MACHINE).exists()


def test_asking_for_a_file_with_head_is_no_download(client, doi):
    url = doi.repo.url("blob", doi.revision_oid, "config.json")
    assert client.head(url, HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.1").status_code == 200
    assert not DoiUsageDay.objects.exists()


def test_each_file_counts_but_a_session_is_unique_once(client, doi):
    _file(client, doi, "config.json")
    _file(client, doi, "README.md")
    _file(client, doi, "README.md")  # a double-click on the same file: one action
    assert _counts(doi) == (2, 1, 2, 1)


def test_a_landing_view_then_a_download_is_one_unique_investigation(client, doi):
    client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.1")
    _file(client, doi)
    assert _counts(doi) == (2, 1, 1, 1)


def test_robots_downloading_on_the_site_are_not_counted(client, doi):
    _file(client, doi, agent="Mozilla/5.0 (compatible; Googlebot/2.1)")
    _file(client, doi, agent="python-requests/2.31")
    assert not DoiUsageDay.objects.exists()


def test_a_download_through_the_api_is_machine_access_though_its_agent_says_python(client, doi):
    assert _resolve(client, doi).status_code == 200
    assert _counts(doi, MACHINE) == (1, 1, 1, 1)
    assert not DoiUsageDay.objects.filter(access_method=REGULAR).exists()


def test_the_clients_head_before_its_get_does_not_count(client, doi):
    assert _resolve(client, doi, method="head").status_code == 200
    assert not DoiUsageDay.objects.exists()


def test_a_download_at_the_branch_head_counts_for_the_doi_of_the_head_revision(client, doi):
    assert _resolve(client, doi, rev="main").status_code == 200
    assert _counts(doi, MACHINE) == (1, 1, 1, 1)


def test_files_of_a_revision_without_a_doi_count_for_no_doi(client, doi, repo, owner):
    commit_files(repo, owner, {"notes.md": "later"})
    assert _resolve(client, doi, "notes.md", rev="main").status_code == 200
    assert _file(client, doi, "notes.md", rev=repo.head.oid).status_code == 200
    assert not DoiUsageDay.objects.exists()


def test_an_earlier_versions_files_count_for_that_version(client, doi, repo, owner, mint):
    commit_files(repo, owner, {"notes.md": "later"})
    later = mint(repo)
    _file(client, doi)
    assert _counts(doi) == (1, 1, 1, 1)
    assert not DoiUsageDay.objects.filter(doi=later).exists()
    assert not DoiUsageDay.objects.filter(doi=doi.concept).exists()


def test_a_missing_file_is_not_counted(client, doi):
    assert _file(client, doi, "nothing.bin").status_code == 404
    assert _resolve(client, doi, "nothing.bin").status_code == 404
    assert not DoiUsageDay.objects.exists()


def test_counting_a_download_costs_one_statement(client, doi):
    assert doi.repo.namespace  # loaded before, for the URLs
    with CaptureQueriesContext(connection) as counted:
        _file(client, doi)
    with CaptureQueriesContext(connection) as robot:
        _file(client, doi, agent="Googlebot/2.1")
    assert len(counted) == len(robot) + 1
    [upsert] = [q["sql"] for q in counted if not q["sql"].startswith("SELECT")]
    assert upsert.startswith("INSERT INTO") and "ON CONFLICT" in upsert


def test_the_month_report_gives_each_access_method_its_instances(client, doi):
    client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.1")
    _resolve(client, doi)
    _resolve(client, doi, "README.md")

    report = usage.dataset_report(timezone.localdate().strftime("%Y-%m"))

    [dataset] = report["report-datasets"]
    [performance] = dataset["performance"]
    found = {(i["access-method"], i["metric-type"]): i["count"] for i in performance["instance"]}
    assert found == {
        ("regular", "total-dataset-investigations"): 1,
        ("regular", "unique-dataset-investigations"): 1,
        ("machine", "total-dataset-investigations"): 2,
        ("machine", "unique-dataset-investigations"): 1,
        ("machine", "total-dataset-requests"): 2,
        ("machine", "unique-dataset-requests"): 1,
    }
