"""System checks for the DOI settings: a bad suffix pattern must stop the site at startup,
not surface as a DataCite error after an owner pressed Generate DOI; and, with ``check
--deploy``, a production cache that would count each visitor once per process."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.utils.module_loading import import_string

from doi.metadata import DOI_PATTERN
from doi.registrars import REGISTRARS
from doi.usage import DOUBLE_CLICK_SECONDS


@register()
def check_doi_settings(app_configs, **kwargs) -> list[Error]:
    errors = []
    if not re.fullmatch(r"10\.\d{4,5}", settings.DOI_PREFIX):
        errors.append(
            Error(
                f"DOI_PREFIX {settings.DOI_PREFIX!r} is not a DOI prefix like 10.5072.",
                id="doi.E001",
            )
        )
    pattern = settings.DOI_SUFFIX_PATTERN
    try:
        names = {f"{settings.DOI_PREFIX}/{pattern.format(number=n)}" for n in (1, 2, 99999)}
    except (KeyError, IndexError, ValueError) as exc:
        errors.append(
            Error(
                f"DOI_SUFFIX_PATTERN {pattern!r} cannot be formatted ({exc}).",
                hint="Use Python format syntax with one field named number, e.g. hub/{number:04d}.",
                id="doi.E002",
            )
        )
    else:
        if len(names) < 3:
            errors.append(
                Error(
                    f"DOI_SUFFIX_PATTERN {pattern!r} gives every DOI the same name.",
                    hint="Include {number}, e.g. hub/{number:04d}.",
                    id="doi.E003",
                )
            )
        bad = sorted(name for name in names if not DOI_PATTERN.match(name))
        if bad:
            errors.append(
                Error(
                    f"DOI_SUFFIX_PATTERN {pattern!r} makes names DataCite refuses: {bad[0]!r}.",
                    hint="Use letters, digits and - . _ ; ( ) / : only.",
                    id="doi.E004",
                )
            )
    try:
        import_string(REGISTRARS.get(settings.DOI_REGISTRAR, settings.DOI_REGISTRAR))
    except ImportError:
        errors.append(
            Error(
                f"DOI_REGISTRAR {settings.DOI_REGISTRAR!r} is not 'local', 'datacite' or the "
                "dotted path of a registrar class.",
                id="doi.E005",
            )
        )
    if settings.DOI_REGISTRAR == "datacite" and not (
        settings.DATACITE_REPOSITORY_ID and settings.DATACITE_PASSWORD
    ):
        errors.append(
            Error(
                "DOI_REGISTRAR is 'datacite' but DATACITE_REPOSITORY_ID or DATACITE_PASSWORD "
                "is not set.",
                id="doi.E006",
            )
        )
    return errors


LOCAL_MEMORY_CACHE = "django.core.cache.backends.locmem.LocMemCache"


@register(deploy=True)
def check_shared_cache(app_configs, **kwargs) -> list[Warning]:
    # How many processes and machines will serve the site is gunicorn's and the load balancer's
    # to know, not this process's: production with a cache of its own is warned in any case.
    if settings.DEBUG or settings.CACHES["default"]["BACKEND"] != LOCAL_MEMORY_CACHE:
        return []
    return [
        Warning(
            "CACHE_URL is not set, so each process caches in its own memory: every gunicorn "
            "worker and web server keeps its own usage counts' salt of the day and double-click "
            "memory. A visitor whose requests reach two of them is counted as two sessions "
            "(inflated view counts), and the double-click limit (one count per "
            f"{DOUBLE_CLICK_SECONDS} seconds) holds per process only.",
            hint="Set CACHE_URL to a Redis that every process serving the site shares, e.g. "
            'redis://127.0.0.1:6379/0 (README, "Several web servers").',
            id="doi.W001",
        )
    ]
