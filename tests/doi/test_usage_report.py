"""The month's usage report that staff download in the admin (DOIs → Usage report): the Make
Data Count dataset report (DSR) of the hub's own counts, checked against the JSON schema that
DataCite's usage-report API (sashimi) validates reports with; see sashimi_usage_schema.LICENSE
for where it comes from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone
from jsonschema import Draft4Validator

from doi.models import Doi
from tests.factories import UserFactory

SCHEMA = json.loads((Path(__file__).parent / "sashimi_usage_schema.json").read_text())
REPORT = reverse("admin:doi_doi_usage_report")
CHANGELIST = reverse("admin:doi_doi_changelist")
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36"
HF_HUB = "huggingface_hub/2.4.0; python/3.12.1"


@pytest.fixture
def counted(client, repo, mint, datacite):
    """A findable DOI viewed at the site and downloaded through the API this month."""
    doi = mint(repo)
    doi.refresh_from_db()
    assert doi.state == Doi.State.FINDABLE
    client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.1")
    client.get(f"/doi/{doi.doi}", HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="192.0.2.2")
    for path in ("config.json", "README.md"):
        url = repo.url("hubapi-files:resolve", doi.revision_oid, path)
        client.get(url, HTTP_USER_AGENT=HF_HUB, REMOTE_ADDR="192.0.2.3")
    client.logout()
    return doi


@pytest.fixture
def reporter(db):
    """Staff who may see DOIs and download the report, and nothing else."""
    user = UserFactory(username="rita", full_name="Rita Reporter", is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(codename="view_doi"),
        Permission.objects.get(codename="download_usage_report"),
    )
    return user


def _month() -> str:
    return timezone.localdate().strftime("%Y-%m")


def _errors(document: dict, schema: dict) -> list[str]:
    found = Draft4Validator(schema).iter_errors(document)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]


def test_staff_with_the_permission_download_the_months_report(client, counted, reporter):
    client.force_login(reporter)
    response = client.get(REPORT, {"month": _month()})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="dsr-{_month()}.json"'
    report = json.loads(response.content)
    [dataset] = report["report-datasets"]
    assert dataset["dataset-id"] == [{"type": "doi", "value": counted.doi}]
    [performance] = dataset["performance"]
    assert performance["period"]["begin-date"] == f"{_month()}-01"
    found = {(i["access-method"], i["metric-type"]): i["count"] for i in performance["instance"]}
    assert found == {
        ("regular", "total-dataset-investigations"): 2,
        ("regular", "unique-dataset-investigations"): 2,
        ("machine", "total-dataset-investigations"): 2,
        ("machine", "unique-dataset-investigations"): 1,
        ("machine", "total-dataset-requests"): 2,
        ("machine", "unique-dataset-requests"): 1,
    }


def test_the_report_is_valid_by_datacites_own_schema(client, counted, staff):
    client.force_login(staff)
    report = json.loads(client.get(REPORT, {"month": _month()}).content)

    # sashimi keeps the header's fields beside the datasets and validates them so
    # (Report#validate_sushi); the schema's counter_dataset_report is the shape as sent.
    stored = {**report["report-header"], "report-datasets": report["report-datasets"]}
    assert _errors(stored, SCHEMA) == []
    as_sent = {**SCHEMA, **SCHEMA["definitions"]["counter_dataset_report"]}
    assert _errors(report, as_sent) == []
    # The schema can fail: a metric it does not know is refused.
    report["report-datasets"][0]["performance"][0]["instance"][0]["metric-type"] = "views"
    assert _errors(report, as_sent) != []


def test_a_month_without_counts_is_a_report_without_datasets(client, staff, db):
    client.force_login(staff)
    report = json.loads(client.get(REPORT, {"month": "2020-01"}).content)
    assert report["report-datasets"] == []
    assert report["report-header"]["reporting-period"] == {
        "begin-date": "2020-01-01",
        "end-date": "2020-01-31",
    }


def test_the_page_offers_the_last_full_month(client, staff, db):
    client.force_login(staff)
    response = client.get(REPORT)
    assert response.status_code == 200
    first = timezone.localdate().replace(day=1)
    last_month = (first - timezone.timedelta(days=1)).strftime("%Y-%m")
    assert f'value="{last_month}"' in response.content.decode()


def test_a_month_it_cannot_read_is_said_on_the_form(client, staff, db):
    client.force_login(staff)
    response = client.get(REPORT, {"month": "2026-13"})
    assert response.status_code == 400
    page = response.content.decode()
    assert "is not a month: the month is 01 to 12." in page
    assert 'value="2026-13"' in page


def test_support_staff_may_not_download_it_nor_see_the_link(client, support_staff, db):
    assert (
        not Group.objects.get(name="Support staff")
        .permissions.filter(codename="download_usage_report")
        .exists()
    )
    client.force_login(support_staff)
    assert client.get(REPORT, {"month": _month()}).status_code == 403
    changelist = client.get(CHANGELIST)
    assert changelist.status_code == 200
    assert REPORT not in changelist.content.decode()


def test_the_list_of_dois_links_to_it_for_those_who_may(client, reporter, db):
    client.force_login(reporter)
    assert f'href="{REPORT}"' in client.get(CHANGELIST).content.decode()


def test_only_staff_get_in(client, reporter, db):
    response = client.get(REPORT)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
