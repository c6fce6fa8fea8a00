"""Errors in the shape the Hugging Face Hub answers with, which ``huggingface_hub`` reads.

The client (``hf_raise_for_status``) shows the ``X-Error-Message`` header and the body's
``{"error": …}`` as they are, and picks its exception class from ``X-Error-Code``
(``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``). An HTTP header carries ASCII only, so
the header holds the message spelled in ASCII and the body the message itself; the client
prints one line when they are the same.
"""

from __future__ import annotations

import unicodedata

from django.http import JsonResponse

# The client treats a 401 as "repository not found" unless the header says exactly this.
INVALID_CREDENTIALS = "Invalid credentials in Authorization header"
_ASCII = str.maketrans(
    {"\u2026": "...", "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2192": "->"}
    | {"\u2014": "-", "\u2013": "-"}
)


class ApiError(Exception):
    """A refused API request: its status, the message the client prints, and the Hub's error
    code where the client knows one."""

    status = 400
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        header: str | None = None,
        details: dict | None = None,
        headers: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.header = header or message
        self.details = details or {}  # more of the body, beside "error"
        self.headers = headers or {}
        if status is not None:
            self.status = status

    def response(self) -> JsonResponse:
        response = JsonResponse({"error": self.message, **self.details}, status=self.status)
        response["X-Error-Message"] = _as_ascii(self.header)
        if self.code:
            response["X-Error-Code"] = self.code
        for name, value in self.headers.items():
            response[name] = value
        return response


def _as_ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return folded.encode("ascii", "ignore").decode().replace("\n", " ")


class Unauthorized(ApiError):
    status = 401


class Forbidden(ApiError):
    status = 403


class Conflict(ApiError):
    status = 409


class NotFound(ApiError):
    status = 404


class RepoMoved(ApiError):
    """The repository has another name now: the client follows to the same address under it."""

    status = 307

    def __init__(self, full_name: str, location: str) -> None:
        super().__init__(f"The repository is now {full_name}.", headers={"Location": location})


class RepoNotFound(NotFound):
    code = "RepoNotFound"

    def __init__(self, repo_type: str, repo_id: str) -> None:
        super().__init__(f"{repo_type.capitalize()} {repo_id} does not exist here, or is private.")


class RevisionNotFound(NotFound):
    code = "RevisionNotFound"


class EntryNotFound(NotFound):
    code = "EntryNotFound"
