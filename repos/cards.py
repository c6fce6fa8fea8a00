"""Model cards: README.md with optional YAML front matter, rendered as sanitised HTML.

A README is untrusted input: the Markdown is rendered with raw HTML kept only as far as the
sanitiser's allow-list permits, and malformed front matter becomes a notice, never an error page.
Two things are refused outright because a few bytes of them cost the server without limit:
YAML aliases (each level multiplies what the anchor holds) and cards over ``CARD_MAX_KB``.
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from dataclasses import dataclass, field
from importlib.metadata import version
from urllib.parse import urlsplit

import lxml.html
import nh3
import yaml
from django.conf import settings
from django.core.cache import cache
from django.template.defaultfilters import filesizeformat
from markdown_it import MarkdownIt

_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)(?:\r?\n)?^---[ \t]*(?:\r?\n|\Z)", re.S | re.M)
_markdown = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
    ["table", "strikethrough"]
)
_ALLOWED_TAGS = nh3.ALLOWED_TAGS | {"img", "details", "summary"}
_ALLOWED_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    "img": {"src", "alt", "title", "width", "height"},
    "a": {"href", "title"},
    "code": {"class"},
}
LINK_REL = "nofollow noopener noreferrer"
# Part of the cache key of rendered cards: bump it whenever render_markdown's output changes
# for the same input (the library versions are in the key already).
RENDERER_VERSION = f"2-{version('markdown-it-py')}-{version('nh3')}"
# Deeper nesting than any real card needs; far below what would exhaust Python's stack.
MAX_DEPTH = 20
_FRONT_MATTER_NAME = "The metadata block at the top of README.md"


class CardRefused(ValueError):
    """YAML this hub will not process (a card's front matter, a CITATION.cff): too large, or
    with aliases or nesting too deep."""


@dataclass
class Card:
    metadata: dict = field(default_factory=dict)
    body: str = ""
    error: str = ""
    # Why the hub refuses this text as a card (the card editor shows it as a form error); a
    # commit that brings it in some other way keeps the files and only ignores the metadata.
    refused: str = ""

    def outline(self) -> dict:
        """What a DOI's record takes from the README's Markdown, worked out when it is committed
        so that minting never needs the file store: ``lead``, the plain text of the first
        paragraph that shows something (headings, badges and HTML left out), and ``links``, the
        targets of its links to papers (arXiv, doi.org)."""
        lead, links = "", {}
        tokens = _plain_markdown.parse(self.body)
        for previous, token in itertools.pairwise(tokens):
            if not lead and token.type == "inline" and previous.type == "paragraph_open":
                text = _inline_text(token)
                if any(unicodedata.category(c)[0] in _VISIBLE for c in text):
                    lead = text[:LEAD_MAX_CHARS]
        for token in tokens:
            for child in token.children or []:
                href = str(child.attrs.get("href", "")) if child.type == "link_open" else ""
                if href.strip().lower().startswith(_PAPER_LINKS):
                    links[href] = None
        return {"lead": lead, "links": list(links)[:MAX_PAPER_LINKS]}


# Parsed for its text only, never rendered.
_plain_markdown = MarkdownIt("commonmark")
# Letters, marks, numbers, punctuation and symbols: what a paragraph needs to say something.
_VISIBLE = frozenset("LMNPS")
# Far longer than any abstract proposed from it, and bounded: it is kept with every revision.
LEAD_MAX_CHARS = 5000
MAX_PAPER_LINKS = 100
_PAPER_LINKS = (
    "arxiv:",
    "doi:",
    *(
        f"{scheme}://{host}/"
        for scheme in ("https", "http")
        for host in ("arxiv.org", "www.arxiv.org", "doi.org", "dx.doi.org")
    ),
)


def _inline_text(token) -> str:
    parts = []
    for child in token.children or []:
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts)


def max_card_bytes() -> int:
    return settings.CARD_MAX_KB * 1024


def size_problem(size: int) -> str:
    """Why a README of ``size`` bytes is not used as the card, or "" when it is small enough."""
    if size <= max_card_bytes():
        return ""
    return (
        f"README.md is {filesizeformat(size)}, over the limit of {settings.CARD_MAX_KB} KB "
        "for a card"
    )


class _SafeLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing aliases and nesting deeper than MAX_DEPTH. ``what`` names
    the text in messages, and ``first_line`` is the number of its first line in its file."""

    _depth = 0
    what = "The YAML"
    first_line = 1

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            raise CardRefused(
                f"{self.what} uses the YAML alias “*{event.anchor[:40]}” "
                f"(line {event.start_mark.line + self.first_line}); aliases are not "
                "accepted: write the value out in full"
            )
        if self._depth >= MAX_DEPTH:
            raise CardRefused(
                f"{self.what} nests deeper than {MAX_DEPTH} levels "
                f"(line {event.start_mark.line + self.first_line})"
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, *, what: str, first_line: int = 1) -> tuple[object, yaml.Node | None]:
    """``text`` read as the card's front matter is (safe, no aliases, at most MAX_DEPTH deep),
    with its node tree, whose marks say on which line each value stands. Raises CardRefused
    naming ``what`` and the line (counted from ``first_line``), or yaml.YAMLError."""
    loader = _SafeLoader(text)
    loader.what, loader.first_line = what, first_line
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    except ValueError as exc:
        if isinstance(exc, CardRefused):
            raise
        # E.g. an integer of more digits than Python converts; report it like bad YAML.
        raise yaml.YAMLError(str(exc)) from None
    finally:
        loader.dispose()


def split_front_matter(text: str) -> tuple[str | None, str]:
    """The YAML between the leading ``---`` lines (None without one), and the Markdown body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return None, text
    return match.group(1), text[match.end() :]


def parse_card(text: str) -> Card:
    """Split a README into its YAML front matter (as a dict) and its Markdown body."""
    problem = size_problem(len(text.encode()))
    if problem:
        return Card(
            error=f"{problem}: it is not shown and its metadata was ignored.",
            refused=f"{problem}: shorten it, or put long parts in files of their own.",
        )
    front_matter, body = split_front_matter(text)
    if front_matter is None:
        return Card(body=text)
    try:
        metadata, _ = load_yaml(front_matter, what=_FRONT_MATTER_NAME, first_line=2)
    except CardRefused as exc:
        return Card(body=body, error=f"{exc}. The metadata was ignored.", refused=f"{exc}.")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        return Card(
            body=body,
            error=f"The metadata block at the top of README.md is not valid "
            f"YAML{where}; it was ignored.",
        )
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        return Card(
            body=body,
            error="The metadata block at the top of README.md must be a set "
            "of “key: value” lines; it was ignored.",
        )
    return Card(metadata=json_safe(metadata), body=body)


def json_safe(value):
    """YAML can produce dates, infinities and control characters that JSONField (and what is
    built from the metadata) cannot store."""
    if isinstance(value, dict):
        return {_json_safe_str(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return _json_safe_str(str(value))


# What YAML does not allow written out (NUL, other control characters, lone surrogates): only
# escapes such as "\0" or "\e" produce it, and PostgreSQL, XML and citations cannot carry it.
_UNPRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _json_safe_str(value: str) -> str:
    return _UNPRINTABLE.sub("", value)


def render_markdown(body: str) -> str:
    html = nh3.clean(
        _markdown.render(body),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
    )
    return _link_remote_images(html) if "<img" in html else html


def _link_remote_images(html: str) -> str:
    """Turn each image from another site into a link saying it is external.

    A remote image tells its host who views the card, and when (of a private repository, too);
    the Content-Security-Policy blocks it anyway, so the card says what was there and lets the
    reader open it. A proxy would hide the viewer, but make this server fetch any URL a card
    names (other hosts on its network included) and serve what comes back.
    """
    root = lxml.html.fragment_fromstring(html, create_parent="div")
    for img in root.iter("img"):
        host = _remote_host(img.get("src", ""))
        if host is None:
            continue
        link = lxml.html.Element("a", {"href": img.get("src").strip(), "rel": LINK_REL})
        link.set("class", "external-image")
        alt = (img.get("alt") or "").strip()
        link.text = f"External image ({host})" + (f": {alt}" if alt else "")
        link.tail = img.tail
        img.getparent().replace(img, link)
    # The wrapper's own tags off: "<div>" … "</div>".
    return lxml.html.tostring(root, encoding="unicode")[5:-6]


def _remote_host(src: str) -> str | None:
    """The host an image address leads to when it is not this site, else None. Read as a
    browser does: surrounding spaces and controls dropped, tabs and newlines removed, a
    backslash taken for a slash."""
    src = re.sub(r"^[\x00-\x20]+|[\x00-\x20]+$|[\t\n\r]", "", src).replace("\\", "/")
    parts = urlsplit(src)
    if not (parts.scheme or parts.netloc):
        return None
    return parts.hostname or parts.netloc or parts.scheme


def card_html(sha256: str, read_text) -> str:
    """The card of the README whose content has ``sha256``, rendered once and then cached.

    ``read_text`` returns the README's text; it is only called when the cache has no copy.
    """
    key = f"card-html:{RENDERER_VERSION}:{sha256}"
    html = cache.get(key)
    if html is None:
        html = render_markdown(split_front_matter(read_text())[1])
        cache.set(key, html, timeout=None)
    return html


def as_list(value) -> list[str]:
    """Card fields like tags or datasets may be one string or a list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]
