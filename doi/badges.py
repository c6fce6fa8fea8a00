"""The DOI badge (an SVG a README can show) and the snippets that embed it, which the Cite
panel offers for copying."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING

import anybadge
from django.conf import settings
from django.urls import reverse
from django.utils.html import escape

from doi.citations import resolver_url

if TYPE_CHECKING:
    from doi.models import Doi

# White text on these keeps a contrast ratio of at least 4.5:1.
FINDABLE_COLOR = "#0b61a4"
OTHER_COLOR = "#6b6b6b"


@dataclass(frozen=True)
class Badge:
    label: str
    value: str
    color: str

    @classmethod
    def of(cls, doi: Doi) -> Badge:
        """The DOI, and what stands in the way of its use when it is not simply findable."""
        caveat = _caveat(doi)
        value = f"{doi.doi} ({caveat})" if caveat else doi.doi
        return cls("DOI", value, OTHER_COLOR if caveat else FINDABLE_COLOR)

    @property
    def svg(self) -> str:
        # anybadge escapes the text and sizes each half to it.
        return anybadge.Badge(self.label, self.value, default_color=self.color).badge_svg_text

    @property
    def etag(self) -> str:
        """A weak ETag: anybadge numbers its masks per process, so the bytes of two renderings
        of the same badge differ while the image does not."""
        digest = hashlib.sha256(f"{version('anybadge')}\0{self!r}".encode()).hexdigest()
        return f'W/"{digest[:32]}"'


def _caveat(doi: Doi) -> str:
    # Before "removed": a draft whose repository was deleted never resolved.
    if doi.is_unpublished_draft:
        return "reserved"
    if doi.repo.is_removed:
        return "removed"
    return {
        doi.State.FINDABLE: "",
        doi.State.HIDDEN: "hidden",
        doi.State.PENDING: "pending",
        doi.State.RESERVED: "reserved",  # a draft being published
        doi.State.FAILED: "not registered",
    }[doi.state]


def badge_url(doi: Doi) -> str:
    return f"{settings.SITE_URL}{reverse('doi:badge', args=[doi.doi])}"


def link_url(doi: Doi) -> str:
    """Where the badge leads: doi.org once DataCite resolves the DOI, the Hub's page before."""
    if doi.at_datacite:
        return resolver_url(doi.doi)
    return f"{settings.SITE_URL}{reverse('doi:resolve', args=[doi.doi])}"


def snippets(doi: Doi) -> list[tuple[str, str, str]]:
    """``(name, label, text)`` of the badge as Markdown, reStructuredText and HTML."""
    image, link, alt = badge_url(doi), link_url(doi), f"DOI {doi.doi}"
    # A DOI may hold any printable character; in Markdown, brackets and parentheses would end
    # the alt text or the URL, so they are escaped (alt) or percent-encoded (URLs are already).
    markdown_alt = "".join(f"\\{c}" if c in "[]\\" else c for c in alt)
    markdown_link = link.replace("(", "%28").replace(")", "%29")
    markdown_image = image.replace("(", "%28").replace(")", "%29")
    return [
        ("markdown", "Markdown", f"[![{markdown_alt}]({markdown_image})]({markdown_link})"),
        (
            "rst",
            "reStructuredText",
            f".. image:: {image}\n   :alt: {alt}\n   :target: {link}",
        ),
        # Text to show and copy, not markup for this page: a plain str, so templates escape it.
        (
            "html",
            "HTML",
            f'<a href="{escape(link)}"><img src="{escape(image)}" alt="{escape(alt)}"></a>',
        ),
    ]
