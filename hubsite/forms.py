"""Form conventions shared by the apps."""

from __future__ import annotations


class PlainLabels:
    """Label the form's fields without Django's trailing colon ("Password", not "Password:"),
    as the account and support pages do (includes/_field.html renders ``label_tag``)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
