"""File paths inside a repository: which are accepted, and how a stored bad one is repaired.

A path is shown on pages, put in URLs and in download headers, and read by people choosing
what to download, so it must be printable and unambiguous: no control, formatting (e.g.
right-to-left overrides), separator or unassigned characters, no spaces other than the ordinary
one, and no component that starts or ends with a space. Paths are stored in Unicode NFC, the
form most systems write, so that one name cannot be stored twice in two spellings.
"""

from __future__ import annotations

import mimetypes
import unicodedata

from django.core.exceptions import ValidationError

MAX_LENGTH = 255


def media_type(path: str) -> str:
    """The media type a file is downloaded with, guessed from its name (as FAIR Signposting
    announces it): ``application/octet-stream`` when the name says nothing."""
    return mimetypes.guess_type(path, strict=False)[0] or "application/octet-stream"


# Unicode general categories refused in a path, and how a person would call them.
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a lone surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned character",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than the ordinary one",
}
_CONTROL_NAMES = {"\t": "TAB", "\n": "LINE FEED", "\r": "CARRIAGE RETURN", "\x00": "NUL"}


def _refusal(char: str) -> str:
    """Why ``char`` cannot be in a path, or "" when it can."""
    if char == " ":
        return ""
    kind = _REFUSED_CATEGORIES.get(unicodedata.category(char))
    if kind is None:
        return ""
    name = unicodedata.name(char, "") or _CONTROL_NAMES.get(char, "")
    return f"U+{ord(char):04X}{f' {name}' if name else ''} ({kind})"


def shown(path: str) -> str:
    """``path`` for an error message, with each refused character written as its code point."""
    return "".join(f"\\u{ord(c):04x}" if _refusal(c) else c for c in path)


def normalize(path: str) -> str:
    return unicodedata.normalize("NFC", path)


def validate_path(path: str) -> None:
    """Raise ValidationError, naming the problem, unless ``path`` may be stored in a repository."""
    invalid = f"“{shown(path)}” is not a valid file path"
    parts = path.split("/")
    if (
        not path
        or len(path) > MAX_LENGTH
        or path.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
        or "\\" in path
    ):
        raise ValidationError(
            f"{invalid}: use folder names separated by “/”, without empty, “.” or “..” parts "
            f"or “\\”, at most {MAX_LENGTH} characters.",
            code="invalid_path",
        )
    for char in path:
        refusal = _refusal(char)
        if refusal:
            raise ValidationError(
                f"{invalid}: it contains {refusal}. Rename it without that character.",
                code="invalid_path",
            )
    if any(part != part.strip(" ") for part in parts):
        raise ValidationError(
            f"{invalid}: a file or folder name starts or ends with a space.", code="invalid_path"
        )
    if path != normalize(path):
        raise ValidationError(
            f"{invalid}: it is not in Unicode normal form C.", code="invalid_path"
        )


def repaired(path: str) -> str:
    """A valid path as close to ``path`` as can be: what a stored bad path is renamed to."""
    parts = []
    for part in normalize(path).replace("\\", "/").split("/"):
        part = "".join("_" if _refusal(c) else c for c in part).strip(" ")
        if part in ("", ".", ".."):
            part = "_" if part else ""
        if part:
            parts.append(part)
    return "/".join(parts)[:MAX_LENGTH].rstrip("/ ") or "_"
