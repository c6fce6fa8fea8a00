"""The DataCite registrar over real HTTP against the fake DataCite, and the fake itself."""

from __future__ import annotations

import json

import pytest
import requests

from doi.registrars import (
    DataCiteRegistrar,
    LocalRegistrar,
    Pacer,
    RegistrarError,
    get_registrar,
)
from tests.datacite_server import MEDIA_TYPE, PASSWORD, REPOSITORY_ID

DOI = "10.5072/hub/0001"
ATTRIBUTES = {
    "creators": [{"name": "Liddell, Alice", "nameType": "Personal"}],
    "titles": [{"title": "sentiment-model"}],
    "publisher": {"name": "BOINC AI Hub"},
    "publicationYear": "2026",
    "types": {"resourceTypeGeneral": "Model"},
    "url": "https://hub.example.org/doi/10.5072/hub/0001",
    "schemaVersion": "http://datacite.org/schema/kernel-4",
}


@pytest.fixture
def registrar(datacite):
    return get_registrar()


def _raw(datacite, method, path, body=None, *, content_type=MEDIA_TYPE, auth=True):
    return requests.request(
        method,
        datacite.url + path,
        data=json.dumps(body) if body is not None else None,
        headers={"Content-Type": content_type, "Accept": MEDIA_TYPE},
        auth=(REPOSITORY_ID, PASSWORD) if auth else None,
        timeout=5,
    )


def _body(attributes):
    return {"data": {"type": "dois", "attributes": attributes}}


# The registrar ----------------------------------------------------------------------------


def test_settings_choose_the_registrar(settings, datacite):
    assert isinstance(get_registrar(), DataCiteRegistrar)
    settings.DOI_REGISTRAR = "local"
    assert isinstance(get_registrar(), LocalRegistrar)
    settings.DOI_REGISTRAR = "doi.registrars.LocalRegistrar"
    assert isinstance(get_registrar(), LocalRegistrar)


@pytest.mark.smoke
def test_local_registrar_is_a_sandbox_that_always_succeeds(settings):
    settings.DOI_REGISTRAR = "local"
    registrar = get_registrar()
    assert registrar.is_sandbox
    assert registrar.upsert(DOI, ATTRIBUTES, "publish")["state"] == "findable"
    assert registrar.upsert(DOI, ATTRIBUTES, "hide")["state"] == "registered"
    assert registrar.get(DOI) is None


def test_datacite_registrar_is_not_a_sandbox_except_on_the_test_system(registrar, settings):
    assert not registrar.is_sandbox
    settings.DATACITE_API_URL = "https://api.test.datacite.org"
    assert get_registrar().is_sandbox


def test_it_creates_with_put_then_updates_idempotently(registrar, datacite):
    answer = registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert answer["state"] == "findable"
    assert answer["url"] == ATTRIBUTES["url"]
    again = registrar.upsert(DOI, {**ATTRIBUTES, "version": "abc1234"}, "publish")
    assert again["state"] == "findable"
    assert datacite.attributes(DOI)["version"] == "abc1234"
    assert len(datacite.records) == 1


def test_it_sends_json_api_with_basic_auth(registrar, datacite):
    seen = {}
    original = datacite.handle

    def spy(method, path, headers, body, *rest):
        seen.update(method=method, path=path, headers=dict(headers), body=json.loads(body))
        return original(method, path, headers, body, *rest)

    datacite.handle = spy
    registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert seen["method"] == "PUT"
    assert seen["path"] == f"/dois/{DOI}"
    assert seen["headers"]["Content-Type"] == MEDIA_TYPE
    assert seen["headers"]["Authorization"].startswith("Basic ")
    assert seen["body"]["data"]["type"] == "dois"
    assert seen["body"]["data"]["attributes"]["event"] == "publish"
    assert seen["body"]["data"]["attributes"]["doi"] == DOI


def test_an_update_sends_no_event(registrar, datacite):
    registrar.upsert(DOI, ATTRIBUTES, "publish")
    answer = registrar.upsert(DOI, {**ATTRIBUTES, "titles": [{"title": "renamed"}]})
    assert answer["state"] == "findable"
    assert "event" not in datacite.attributes(DOI)


def test_get_returns_the_record_or_none(registrar):
    assert registrar.get(DOI) is None
    registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert registrar.get(DOI)["state"] == "findable"


def test_bad_credentials_are_permanent(registrar, settings):
    settings.DATACITE_PASSWORD = "wrong"
    with pytest.raises(RegistrarError) as caught:
        get_registrar().upsert(DOI, ATTRIBUTES, "publish")
    error = caught.value
    assert (error.permanent, error.status) == (True, 401)
    assert "credentials" in error.message
    assert "wrong" not in error.message


def test_a_422_names_the_field_datacite_rejected(registrar):
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert(DOI, {**ATTRIBUTES, "url": ""}, "publish")
    assert caught.value.permanent
    assert caught.value.status == 422
    assert caught.value.message == "DataCite rejected the metadata (url — Can't be blank)"


def test_a_foreign_prefix_is_refused_for_good(registrar):
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert("10.9999/hub/0001", ATTRIBUTES, "publish")
    assert (caught.value.permanent, caught.value.status) == (True, 403)


@pytest.mark.parametrize("fault", ["500", "502", "503"])
def test_server_errors_are_transient(registrar, datacite, fault):
    datacite.fail(fault)
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert not caught.value.permanent
    assert caught.value.status == int(fault)
    assert f"HTTP {fault}" in caught.value.message
    assert "<html>" not in caught.value.message


def test_rate_limit_is_transient_and_honours_retry_after(registrar, datacite):
    datacite.retry_after = "7"
    datacite.fail("429")
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert (caught.value.permanent, caught.value.retry_after) == (False, 7.0)


def test_a_429_holds_back_the_registrar_s_next_request(registrar, datacite):
    datacite.fail("429")  # Retry-After: 1
    with pytest.raises(RegistrarError):
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    registrar.upsert(DOI, ATTRIBUTES, "publish")
    refused, accepted = datacite.requests
    assert accepted["at"] - refused["at"] >= 1.0


def test_one_registrar_per_process_until_its_settings_change(registrar, settings):
    assert get_registrar() is registrar
    settings.DATACITE_REQUESTS_PER_MINUTE = 60
    assert get_registrar() is not registrar
    assert get_registrar().pacer.interval == 1.0


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_pacer_spaces_requests_evenly():
    clock = _Clock()
    pacer = Pacer(120, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(4):
        pacer.wait()
    assert clock.slept == [0.5, 0.5, 0.5]


def test_after_a_pause_the_pacer_lets_a_small_burst_go_and_no_more():
    clock = _Clock()
    pacer = Pacer(120, burst=3, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        pacer.wait()
    assert clock.slept == [0.5, 0.5]  # three at once, then the pace
    clock.now += 60  # idle for a minute: still only three at once
    for _ in range(5):
        pacer.wait()
    assert clock.slept == [0.5, 0.5, 0.5, 0.5]


def test_the_pacer_holds_off_and_then_resumes_its_pace():
    clock = _Clock()
    pacer = Pacer(120, burst=1, clock=clock, sleep=clock.sleep)
    pacer.wait()
    pacer.hold_off(7)
    pacer.wait()
    pacer.wait()
    assert clock.slept == [7, 0.5]


def test_a_pacer_without_a_limit_never_waits():
    clock = _Clock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        pacer.wait()
    assert clock.slept == []


def test_retry_after_as_an_http_date_is_understood(registrar, datacite):
    datacite.retry_after = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past: no wait
    datacite.fail("429")
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert caught.value.retry_after == 0.0


@pytest.mark.parametrize(
    ("header", "expected"),
    [("²", None), ("9" * 400, 86400.0), ("Wed, 21 Oct 9999 07:28:00 GMT", 86400.0)],
)
def test_a_strange_retry_after_is_ignored_or_capped_at_a_day(registrar, datacite, header, expected):
    datacite.retry_after = header
    datacite.fail("429")
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert caught.value.retry_after == expected


@pytest.mark.parametrize("fault", ["timeout", "drop", "malformed"])
def test_lost_or_unreadable_answers_are_transient(registrar, datacite, fault):
    datacite.fail(fault)
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert not caught.value.permanent


def test_connection_refused_is_transient(registrar, datacite):
    datacite.go_down()
    with pytest.raises(RegistrarError) as caught:
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert not caught.value.permanent
    assert caught.value.message == "DataCite could not be reached"
    datacite.come_back()
    assert registrar.upsert(DOI, ATTRIBUTES, "publish")["state"] == "findable"


def test_a_timed_out_put_was_done_anyway_and_repeating_it_is_harmless(registrar, datacite):
    datacite.fail("timeout")
    with pytest.raises(RegistrarError):
        registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert datacite.state(DOI) == "findable"
    registrar.upsert(DOI, ATTRIBUTES, "publish")
    assert len(datacite.records) == 1


# The fake behaves like DataCite -------------------------------------------------------------


def test_fake_put_answers_201_then_200(datacite):
    assert _raw(datacite, "PUT", f"/dois/{DOI}", _body(ATTRIBUTES)).status_code == 201
    assert _raw(datacite, "PUT", f"/dois/{DOI}", _body(ATTRIBUTES)).status_code == 200
    assert datacite.state(DOI) == "draft"


def test_fake_checks_credentials_and_content_type(datacite):
    response = _raw(datacite, "PUT", f"/dois/{DOI}", _body(ATTRIBUTES), auth=False)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"status": "401", "title": "Bad credentials."}]}
    response = _raw(datacite, "PUT", f"/dois/{DOI}", _body(ATTRIBUTES), content_type="text/plain")
    assert response.status_code == 415


def test_fake_state_machine(datacite):
    put = lambda event: _raw(  # noqa: E731
        datacite, "PUT", f"/dois/{DOI}", _body({**ATTRIBUTES, "event": event})
    )
    assert put("hide").status_code == 422  # only findable DOIs can be hidden
    assert datacite.state(DOI) is None
    assert put("register").json()["data"]["attributes"]["state"] == "registered"
    assert put("publish").json()["data"]["attributes"]["state"] == "findable"
    assert put("hide").json()["data"]["attributes"]["state"] == "registered"
    assert put("register").json()["data"]["attributes"]["state"] == "registered"
    assert _raw(datacite, "DELETE", f"/dois/{DOI}").status_code == 405  # never back to draft


def test_fake_requires_a_url_to_publish(datacite):
    response = _raw(
        datacite, "PUT", f"/dois/{DOI}", _body({**ATTRIBUTES, "url": None, "event": "publish"})
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {"source": "url", "title": "Can't be blank", "uid": DOI}


def test_fake_post_refuses_duplicates_and_deletes_drafts(datacite):
    body = _body({**ATTRIBUTES, "doi": DOI})
    assert _raw(datacite, "POST", "/dois", body).status_code == 201
    duplicate = _raw(datacite, "POST", "/dois", body)
    assert duplicate.status_code == 422
    assert duplicate.json()["errors"][0]["title"] == "This DOI has already been taken"
    assert _raw(datacite, "DELETE", f"/dois/{DOI}").status_code == 204
    assert _raw(datacite, "GET", f"/dois/{DOI}").status_code == 404
