"""The naming rules shared by usernames, organization names and repository names."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

NAME_MAX_LENGTH = 96
_ALLOWED = re.compile(r"^[A-Za-z0-9._-]+$")

# Top-level URL segments: a namespace with one of these names would shadow a page.
RESERVED_NAMESPACES = frozenset(
    {
        "admin", "api", "commits", "datasets", "doi", "join", "login", "logout", "media",
        "models", "new", "new-dataset", "organizations", "search", "settings", "static",
        "support", "tree", "upload",
    }
)  # fmt: skip


def validate_name(value: str) -> None:
    """Letters, digits, '-', '_' and '.'; at most 96 characters; no '--' or '..';
    neither starting nor ending with '-' or '.'."""
    if not value:
        raise ValidationError("Enter a name.", code="required")
    if len(value) > NAME_MAX_LENGTH:
        raise ValidationError(
            f"Use at most {NAME_MAX_LENGTH} characters (this one has {len(value)}).",
            code="max_length",
        )
    if not _ALLOWED.match(value):
        raise ValidationError(
            "Use only letters, digits, '-', '_' and '.'.",
            code="invalid_characters",
        )
    if "--" in value or ".." in value:
        raise ValidationError("'--' and '..' are not allowed in a name.", code="double_separator")
    if value[0] in "-." or value[-1] in "-.":
        raise ValidationError("A name cannot start or end with '-' or '.'.", code="edge_separator")


def validate_namespace_name(value: str) -> None:
    validate_name(value)
    if value.lower() in RESERVED_NAMESPACES:
        raise ValidationError(f"'{value}' is reserved. Choose another name.", code="reserved")
