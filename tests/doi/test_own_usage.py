"""The hub's own COUNTER counts per DOI (``doi/usage.py``): landing views of ``/doi/<doi>``
counted by COUNTER's rules without storing who asked, and the month's Make Data Count dataset
report (``manage.py doi_usage_report``)."""

from __future__ import annotations

import json
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from doi import usage
from doi.models import Doi, DoiUsageDay
from repos.models import lock_override

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"


@pytest.fixture
def doi(repo, mint, datacite):
    doi = mint(repo)
    doi.refresh_from_db()
    assert doi.state == Doi.State.FINDABLE
    return doi


def _visit(client, doi, agent=BROWSER, ip="192.0.2.1", **extra):
    return client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=agent, REMOTE_ADDR=ip, **extra)


def _counts(doi):
    row = DoiUsageDay.objects.get(doi=doi, day=timezone.localdate())
    return row.total_investigations, row.unique_investigations, row.total_requests


def test_a_landing_view_counts_as_a_unique_investigation(client, doi):
    assert _visit(client, doi).status_code == 302
    assert _counts(doi) == (1, 1, 0)


def test_a_double_click_counts_once_and_a_later_visit_again_but_not_as_unique(
    client, doi, monkeypatch
):
    assert usage.DOUBLE_CLICK_SECONDS == 30  # COUNTER's window; shortened below to wait it out
    monkeypatch.setattr(usage, "DOUBLE_CLICK_SECONDS", 1)
    _visit(client, doi)
    _visit(client, doi)
    assert _counts(doi) == (1, 1, 0)
    time.sleep(1.1)
    _visit(client, doi)
    assert _counts(doi) == (2, 1, 0)


def test_another_address_or_agent_is_another_unique_session(client, doi):
    _visit(client, doi)
    _visit(client, doi, ip="192.0.2.2")
    _visit(client, doi, agent=BROWSER + " Edg/120")
    assert _counts(doi) == (3, 3, 0)


def test_robots_from_the_counter_list_and_clients_without_agent_are_not_counted(client, doi):
    _visit(client, doi, agent="Mozilla/5.0 (compatible; Googlebot/2.1)")
    _visit(client, doi, agent="python-requests/2.31")
    _visit(client, doi, agent="")
    assert not DoiUsageDay.objects.exists()


def test_a_citation_download_is_not_counted(client, doi):
    response = _visit(client, doi, HTTP_ACCEPT="application/x-bibtex")
    assert response.status_code == 200
    assert not DoiUsageDay.objects.exists()


def test_a_private_repositorys_doi_page_counts_as_an_investigation(client, doi, repo, staff):
    with lock_override(actor=staff, reason="test: made private by staff"):
        repo.set_private(True)
    assert _visit(client, doi).status_code == 200
    assert _counts(doi) == (1, 1, 0)


def test_nothing_about_the_visitor_is_stored(client, doi):
    _visit(client, doi, ip="198.51.100.77")
    row = DoiUsageDay.objects.values().get()
    assert set(row) == {
        "id",
        "doi_id",
        "day",
        "access_method",
        "total_investigations",
        "unique_investigations",
        "total_requests",
        "unique_requests",
    }


def test_a_counted_day_is_one_row_however_many_visits(client, doi):
    for n in range(5):
        _visit(client, doi, ip=f"192.0.2.{n + 1}")
    assert DoiUsageDay.objects.count() == 1
    assert _counts(doi) == (5, 5, 0)


def test_counting_a_landing_view_costs_one_write(client, doi):
    with CaptureQueriesContext(connection) as queries:
        _visit(client, doi)
    writes = [q["sql"] for q in queries if not q["sql"].startswith("SELECT")]
    assert len(writes) == 1
    assert writes[0].startswith("INSERT INTO")


def test_the_month_report_is_a_make_data_count_dsr(client, doi, datacite):
    _visit(client, doi)
    _visit(client, doi, ip="192.0.2.9")
    month = timezone.localdate().strftime("%Y-%m")
    out = StringIO()
    call_command("doi_usage_report", month, stdout=out)
    report = json.loads(out.getvalue())
    header = report["report-header"]
    assert header["report-id"] == "DSR"
    assert header["release"] == "rd1"
    assert header["reporting-period"]["begin-date"] == f"{month}-01"
    [dataset] = report["report-datasets"]
    assert dataset["dataset-id"] == [{"type": "doi", "value": doi.doi}]
    [performance] = dataset["performance"]
    metrics = {i["metric-type"]: i["count"] for i in performance["instance"]}
    assert metrics == {"total-dataset-investigations": 2, "unique-dataset-investigations": 2}


def test_the_report_command_says_what_a_month_looks_like():
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("doi_usage_report", "November")
