"""Model cards: README.md with optional YAML front matter, rendered as sanitised HTML.

A README is untrusted input: the Markdown is rendered with raw HTML kept only as far as the
sanitiser's allow-list permits, and malformed front matter becomes a notice, never an error page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import nh3
import yaml
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


@dataclass
class Card:
    metadata: dict = field(default_factory=dict)
    body: str = ""
    error: str = ""


def parse_card(text: str) -> Card:
    """Split a README into its YAML front matter (as a dict) and its Markdown body."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return Card(body=text)
    body = text[match.end() :]
    try:
        metadata = yaml.safe_load(match.group(1))
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
    return Card(metadata=_json_safe(metadata), body=body)


def _json_safe(value):
    """YAML can produce dates and other objects that JSONField cannot store."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def render_markdown(body: str) -> str:
    return nh3.clean(
        _markdown.render(body),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )


def as_list(value) -> list[str]:
    """Card fields like tags or datasets may be one string or a list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return [str(v) for v in value if v not in (None, "")]
    return [str(value)]
