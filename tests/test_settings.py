"""Configuration from the environment: production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x7Jq0m2-very-long-random-string-for-tests-only-9f8e7d6c5b4a3",
    "DJANGO_ALLOWED_HOSTS": "hub.example.org",
    "SITE_URL": "https://hub.example.org",
    "EMAIL_URL": "submission://user:secret@smtp.example.org:587",
    "DATABASE_URL": "postgres://hub@127.0.0.1:5432/hub",
    "DJANGO_DEBUG": "false",
}
REDIS_URL = "redis://127.0.0.1:6379/0"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SITE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_reports_nothing_in_production_configuration():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, CACHE_URL=REDIS_URL
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_that_without_cache_url_each_process_counts_visitors_alone():
    result = manage("check", "--deploy", **PRODUCTION)
    assert result.returncode == 0, result.stderr  # a warning: the site still starts
    assert "(doi.W001) CACHE_URL is not set" in result.stderr
    assert "inflated view counts" in result.stderr
    assert "one count per 30 seconds) holds per process only" in result.stderr
    assert "HINT: Set CACHE_URL to a Redis" in result.stderr
    refused = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert refused.returncode != 0


def test_the_cache_warning_is_for_production_with_a_cache_per_process(settings):
    from doi.checks import check_shared_cache

    settings.DEBUG = False
    assert [w.id for w in check_shared_cache(None)] == ["doi.W001"]
    settings.DEBUG = True
    assert check_shared_cache(None) == []
    settings.DEBUG = False
    settings.CACHES = {
        "default": {"BACKEND": "hubsite.redis_cache.RedisCache", "LOCATION": REDIS_URL}
    }
    assert check_shared_cache(None) == []


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("DJANGO_SECRET_KEY", "DJANGO_SECRET_KEY is not set"),
        ("DJANGO_ALLOWED_HOSTS", "DJANGO_ALLOWED_HOSTS is not set"),
    ],
)
def test_production_refuses_to_start_without(missing, message):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be one of"),
        ("SITE_URL", "hub.example.org", "SITE_URL must be an absolute http(s) URL"),
        ("EMAIL_URL", "smtp+tls://x@y", "EMAIL_URL must start with one of"),
        ("REPO_UPLOAD_MAX_MB", "lots", "REPO_UPLOAD_MAX_MB must be a whole number"),
        ("TASKS_BACKEND", "celery", "TASKS_BACKEND must be one of"),
        ("S3_ADDRESSING_STYLE", "dns", "S3_ADDRESSING_STYLE must be one of path, virtual"),
        ("S3_ENDPOINT_URL", "s3.example.org", "S3_ENDPOINT_URL must be an absolute http(s) URL"),
        ("CACHE_URL", "memcached://127.0.0.1:11211", "CACHE_URL must be a Redis URL"),
    ],
)
def test_malformed_values_fail_with_a_clear_message(name, value, message):
    result = manage("check", **{**PRODUCTION, name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_s3_bucket_puts_repository_files_in_the_object_store():
    show = (
        "from django.core.files.storage import storages; s = storages['default']; "
        "print(type(s).__name__, getattr(s, 'bucket_name', '-'), getattr(s, 'endpoint_url', '-'))"
    )
    s3 = {"S3_BUCKET": "hub-files", "S3_ENDPOINT_URL": "https://s3.example.org"}

    local = manage("shell", "--no-imports", "-c", show, **PRODUCTION)
    assert local.stdout.split() == ["FileSystemStorage", "-", "-"], local.stderr
    result = manage("shell", "--no-imports", "-c", show, **PRODUCTION, **s3)
    assert result.stdout.split() == ["ObjectStorage", "hub-files", "https://s3.example.org"]


def test_cache_url_shares_one_redis_between_processes():
    show = "from django.conf import settings; c = settings.CACHES['default']; "
    show += "print(c['BACKEND'], c.get('LOCATION', ''))"
    result = manage("shell", "-c", show, **PRODUCTION, CACHE_URL="redis://127.0.0.1:6379/1")
    assert result.returncode == 0, result.stderr
    # The last line: the shell may first say what it imported.
    assert result.stdout.splitlines()[-1].split() == [
        "hubsite.redis_cache.RedisCache",
        "redis://127.0.0.1:6379/1",
    ]
    result = manage("shell", "-c", show, **PRODUCTION)
    assert result.stdout.splitlines()[-1].split() == [
        "django.core.cache.backends.locmem.LocMemCache"
    ]
