from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import QueryDict

from doi.metadata import DESCRIPTION_MAX_LENGTH, clean_creator, clean_record
from doi.related import IDENTIFIER_TYPES, RELATION_TYPES, clean_funder, clean_related

# What the owner agrees to, shown on the form and stored with each DOI (Consent.text and
# text_version). Change the words only together with the version, so every stored consent names
# the words that were shown.
CONSENT_VERSION = "2026-11-25"
CONSENT_POINTS = (
    (
        "The repository will be locked.",
        "Deleting, renaming or moving it, and changing its visibility, will need a support "
        "request, because the DOI must keep leading to it.",
    ),
    (
        "The authors' full names will be transferred to DataCite,",
        "the DOI registration agency, and published with the DOI, together with the ORCID iDs, "
        "affiliations and other details shown in the preview.",
    ),
)
ACKNOWLEDGEMENT_LABEL = (
    "I acknowledge that this repository will be locked (delete, rename and visibility change "
    "need a support request) and that the authors' full names will be transferred to DataCite "
    "and published."
)
CONSENT_TEXT = "\n".join(
    [*(f"- {lead} {rest}" for lead, rest in CONSENT_POINTS), "", ACKNOWLEDGEMENT_LABEL]
)
# What the owner agrees to before Reserve DOI (a private repository's draft): the same, said
# as it happens for a draft.
RESERVE_CONSENT_POINTS = (
    (
        "The DOI is a draft: it does not resolve yet.",
        "DataCite holds it as reserved, so you can put it in a paper under review; nobody can "
        "look it up, and this repository stays private and unlocked until you make it public.",
    ),
    (
        "Making the repository public publishes the DOI",
        "at once, with the record below, and locks the repository from then on: deleting, "
        "renaming or moving it, and changing its visibility, will need a support request. "
        "Deleting the repository before that deletes the draft.",
    ),
    (
        "The authors' full names will be transferred to DataCite",
        "now, and published with the DOI when the repository goes public, together with the "
        "ORCID iDs, affiliations and other details shown in the preview.",
    ),
)
RESERVE_CONSENT_TEXT = "\n".join(
    [*(f"- {lead} {rest}" for lead, rest in RESERVE_CONSENT_POINTS), "", ACKNOWLEDGEMENT_LABEL]
)
# What the owner agrees to when an edit adds people to a DOI's record (Consent, as above).
EDIT_CONSENT_VERSION = "2026-12-01"


def edit_consent_text(names: list[str]) -> str:
    return (
        f"I acknowledge that the full names of {', '.join(names)} will be transferred to "
        "DataCite, the DOI registration agency, and published with the DOI, together with the "
        "ORCID iDs, affiliations and other details shown in the preview."
    )


PERSONAL, ORGANIZATIONAL = "Personal", "Organizational"
CREATOR_FIELDS = (
    "type", "name", "given_name", "family_name", "orcid", "affiliation", "affiliation_ror"
)  # fmt: skip
MAX_AUTHORS = 50
RELATED_FIELDS = ("relation_type", "identifier", "identifier_type")
FUNDING_FIELDS = ("funder_name", "funder_identifier", "award_number", "award_title")
MAX_RELATED = 50
MAX_FUNDERS = 20


class CreatorForm(forms.Form):
    """One author: a person (full name, or given and family name) or an organization."""

    type = forms.ChoiceField(
        label="Type", choices=[(PERSONAL, "Person"), (ORGANIZATIONAL, "Organization")]
    )
    name = forms.CharField(label="Full name", max_length=200, required=False)
    given_name = forms.CharField(label="Given name", max_length=100, required=False)
    family_name = forms.CharField(label="Family name", max_length=100, required=False)
    orcid = forms.CharField(
        label="ORCID iD",
        max_length=60,
        required=False,
        help_text="Optional, e.g. 0000-0002-1825-0097.",
    )
    affiliation = forms.CharField(
        label="Affiliation", max_length=200, required=False, help_text="Optional."
    )
    affiliation_ror = forms.CharField(
        label="ROR id",
        max_length=60,
        required=False,
        help_text="Optional, e.g. https://ror.org/02mhbdp94 (look it up at ror.org).",
    )

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(f) for f in CREATOR_FIELDS if f != "type")

    def clean(self) -> dict:
        data = super().clean()
        if self.errors or self.is_blank():
            return data
        try:
            return clean_creator({f: data.get(f, "") for f in CREATOR_FIELDS})
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                raise
            # Errors about fields this form has go next to them; any other is about the row.
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
            return data


class _RowForm(forms.Form):
    """A row of a list the owner edits (related works, funders): blank rows are left out, and
    ``clean_row`` checks a filled one, putting its errors next to the fields."""

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        return not any(data.get(f) for f in self.meaningful)

    def clean(self) -> dict:
        data = super().clean()
        if self.errors or self.is_blank():
            return data
        try:
            return type(self).clean_row({f: data.get(f, "") for f in self.fields})
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
            return data


class RelatedWorkForm(_RowForm):
    """A link to another work: how this one relates to it, and its identifier."""

    relation_type = forms.ChoiceField(
        label="This work", choices=list(RELATION_TYPES.items()), initial="IsDerivedFrom"
    )
    identifier = forms.CharField(
        label="Identifier",
        max_length=500,
        required=False,
        help_text="A DOI, URL, arXiv id or other identifier.",
    )
    identifier_type = forms.ChoiceField(
        label="Identifier type",
        required=False,
        choices=[("", "Detect automatically"), *((k, v[0]) for k, v in IDENTIFIER_TYPES.items())],
    )
    meaningful = ("identifier",)
    clean_row = staticmethod(clean_related)


class FunderForm(_RowForm):
    """A funding reference: the funder, its identifier, and the award."""

    funder_name = forms.CharField(label="Funder", max_length=500, required=False)
    funder_identifier = forms.CharField(
        label="Funder's ROR id or Crossref Funder ID",
        max_length=200,
        required=False,
        help_text="Optional, e.g. https://ror.org/00k4n6c32 or 10.13039/501100000780.",
    )
    award_number = forms.CharField(label="Award number", max_length=500, required=False)
    award_title = forms.CharField(label="Award title", max_length=500, required=False)
    meaningful = FUNDING_FIELDS
    clean_row = staticmethod(clean_funder)


class BaseRowFormSet(forms.BaseFormSet):
    """Rows of a record list (authors, related works, funders); ``what`` names a row in messages
    ("Related work 2")."""

    what = "Row"

    @property
    def rows(self) -> list[dict]:
        """The rows in order, blank ones left out (valid formsets only)."""
        return [form.cleaned_data for form in self.forms if not form.is_blank()]

    def problems(self) -> list[str]:
        """Every error, one sentence each, naming the row it is about."""
        found = [str(e) for e in self.non_form_errors()]
        for number, form in enumerate(self.forms, start=1):
            for name, errors in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                where = f"{self.what} {number}" + (f" ({label})" if label else "")
                found += [f"{where}: {e}" for e in errors]
        return found


class BaseRelatedFormSet(BaseRowFormSet):
    what = "Related work"


class BaseFundingFormSet(BaseRowFormSet):
    what = "Funder"


def _rows_formset(form: type[forms.Form], formset: type[BaseRowFormSet], most: int):
    return forms.formset_factory(
        form, formset=formset, extra=0, max_num=most, validate_max=True, absolute_max=most
    )


RelatedFormSet = _rows_formset(RelatedWorkForm, BaseRelatedFormSet, MAX_RELATED)
FundingFormSet = _rows_formset(FunderForm, BaseFundingFormSet, MAX_FUNDERS)
RELATED_PREFIX = "related"
FUNDING_PREFIX = "funding"
# The record's lists of rows (``Doi.record`` key → its form prefix, fields, most rows, formset).
RECORD_LISTS = {
    "related_works": (RELATED_PREFIX, RELATED_FIELDS, MAX_RELATED, RelatedFormSet),
    "funding": (FUNDING_PREFIX, FUNDING_FIELDS, MAX_FUNDERS, FundingFormSet),
}


class BaseCreatorFormSet(BaseRowFormSet):
    what = "Author"

    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.creators:
            raise ValidationError("Add at least one author.")

    @property
    def creators(self) -> list[dict]:
        """The authors in order, blank rows left out (valid formsets only)."""
        return self.rows


CreatorFormSet = forms.formset_factory(
    CreatorForm,
    formset=BaseCreatorFormSet,
    extra=0,
    min_num=1,
    max_num=MAX_AUTHORS,
    validate_max=True,
    absolute_max=MAX_AUTHORS,
)
AUTHORS_PREFIX = "authors"


class DoiRecordForm(forms.Form):
    """The fields of a DOI's record beside its authors, as the owner sets them at generation
    and in Edit metadata. Each field's cleaned value is stored in ``Doi.record`` under the
    field's name (``doi.metadata.RECORD_FIELDS`` cleans it, ``record_attributes`` sends it).

    ``initial`` is the record as it stands; a request that leaves a field out keeps that."""

    description = forms.CharField(
        label="Description",
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5, "class": "prose"}),
        help_text="The abstract shown with the DOI and in citations. Taken from the model card; "
        "change it here if you like.",
    )

    def __init__(self, data: QueryDict | None = None, *, initial: dict | None = None) -> None:
        if data is not None and initial:
            data = data.copy()
            for name, value in initial.items():
                if name in self.base_fields and name not in data:
                    data[name] = value
        super().__init__(data, initial=initial)

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            return clean_record(data)
        except ValidationError as exc:
            for name, errors in exc.error_dict.items():
                self.add_error(name if name in self.fields else None, errors)
            return data

    @property
    def record(self) -> dict:
        """The fields as ``Doi.record`` stores them (valid forms only)."""
        return {name: self.cleaned_data[name] for name in self.fields}


class RecordForms:
    """The whole record form of Generate DOI and Edit metadata: the authors' formset and the
    ``DoiRecordForm``, validated and reported together."""

    def __init__(self, data: QueryDict | None, *, rows: list[dict], record: dict) -> None:
        """Bound to ``data`` when given; else showing ``rows`` and ``record``."""
        if data is None:
            self.authors = CreatorFormSet(initial=rows, prefix=AUTHORS_PREFIX)
            self.record_form = DoiRecordForm(initial=record)
        else:
            self.authors = CreatorFormSet(data, prefix=AUTHORS_PREFIX)
            self.record_form = DoiRecordForm(data, initial=record)
        # The record's lists (related works, funders), each a formset of its own.
        self.lists = {}
        for key, (prefix, fields, _, formset) in RECORD_LISTS.items():
            kept = record.get(key, [])
            if data is None:
                self.lists[key] = formset(initial=kept, prefix=prefix)
            elif f"{prefix}-TOTAL_FORMS" in data:
                self.lists[key] = formset(data, prefix=prefix)
            else:  # a request that leaves the list out keeps the record's
                self.lists[key] = formset(rows_as_data(kept, prefix, fields), prefix=prefix)

    @classmethod
    def checked(cls, rows: list[dict], record: dict) -> RecordForms:
        """``rows`` and ``record`` bound as a browser would submit them, to validate them."""
        data = QueryDict(mutable=True)
        data.update(rows_as_data(rows))
        for key, (prefix, fields, _, _) in RECORD_LISTS.items():
            data.update(rows_as_data(record.get(key, []), prefix, fields))
        return cls(data, rows=rows, record=record)

    @property
    def is_bound(self) -> bool:
        return self.authors.is_bound

    def is_valid(self) -> bool:
        lists = [formset.is_valid() for formset in self.lists.values()]
        return all([self.authors.is_valid(), self.record_form.is_valid(), *lists])

    @property
    def creators(self) -> list[dict]:
        return self.authors.creators

    @property
    def record(self) -> dict:
        return self.record_form.record | {k: f.rows for k, f in self.lists.items()}

    @property
    def related(self):
        return self.lists["related_works"]

    @property
    def funding(self):
        return self.lists["funding"]

    def problems(self) -> list[str]:
        """Every error, one sentence each, naming the author row or the field it is about."""
        found = self.authors.problems() if self.authors.is_bound else []
        for name, errors in self.record_form.errors.items():
            label = self.record_form.fields[name].label if name in self.record_form.fields else ""
            found += [f"{label}: {e}" if label else str(e) for e in errors]
        for formset in self.lists.values():
            if formset.is_bound:
                found += formset.problems()
        return found


class AcknowledgeForm(forms.Form):
    acknowledge = forms.BooleanField(
        label=ACKNOWLEDGEMENT_LABEL,
        error_messages={"required": "Tick the box to confirm you have read this."},
    )


class EditAcknowledgeForm(AcknowledgeForm):
    """The acknowledgement an edit needs when it adds people (``names``) to the record."""

    def __init__(self, *args, names: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["acknowledge"].label = edit_consent_text(names)


def rows_as_data(
    rows: list[dict], prefix: str = AUTHORS_PREFIX, fields=CREATOR_FIELDS
) -> dict[str, str]:
    """Rows (authors by default) as the form data a browser would submit for them."""
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0"}
    for i, row in enumerate(rows):
        for f in fields:
            default = "Personal" if f == "type" else ""
            data[f"{prefix}-{i}-{f}"] = row.get(f) or default
    return data


def submitted_record(data: QueryDict, record: dict) -> dict:
    """The record fields as submitted, without validating them; those left out as in ``record``."""
    out = {name: data.get(name, value) for name, value in record.items()}
    for key, (prefix, fields, most, _) in RECORD_LISTS.items():
        if f"{prefix}-TOTAL_FORMS" in data:
            out[key] = author_rows(data, prefix, fields, most)
    return out


def _row_number(text: str) -> int | None:
    """A row count or index as the form sends it: a few ASCII digits. ``str.isdigit()`` alone
    admits "²" (which int() refuses) and an Arabic-Indic one (which int() reads as 1), and
    int() refuses thousands of digits."""
    if text.isascii() and text.isdigit() and len(text) <= 4:
        return int(text)
    return None


def author_rows(
    data: QueryDict, prefix: str = AUTHORS_PREFIX, fields=CREATOR_FIELDS, most=MAX_AUTHORS
) -> list[dict]:
    """The rows (authors by default) as submitted, in order, without validating them."""
    total = _row_number(data.get(f"{prefix}-TOTAL_FORMS", "")) or 0
    return [
        {f: data.get(f"{prefix}-{i}-{f}", "").strip() for f in fields}
        for i in range(min(total, most))
    ]


def _record_list(action: str) -> tuple[str, str, int | None]:
    """For a row button of the related works or funders (``related-add``,
    ``related-remove:<i>``, ``funding-add``, ``funding-remove:<i>``): the record's key, the
    verb and the row; ("", …) for any other action."""
    verb, _, index = action.partition(":")
    prefix, _, verb = verb.rpartition("-")
    key = next((k for k, spec in RECORD_LISTS.items() if spec[0] == prefix), "")
    return key, verb, _row_number(index)


def is_record_row_action(action: str) -> bool:
    return bool(_record_list(action)[0])


def edit_record_rows(record: dict, action: str) -> dict:
    """``record`` with a related-work or funder row button applied; unknown rows change
    nothing."""
    key, verb, i = _record_list(action)
    if not key:
        return record
    rows = list(record.get(key, []))
    if verb == "add" and len(rows) < RECORD_LISTS[key][2]:
        rows.append({"relation_type": "IsDerivedFrom"} if key == "related_works" else {})
    elif verb == "remove" and i is not None and i < len(rows):
        del rows[i]
    return record | {key: rows}


def record_focus(record: dict, action: str) -> str:
    """The element to focus after a related-work or funder row button: the new row's first
    text field, or after a removal the next row's (the list's Add button when none is left)."""
    key, verb, i = _record_list(action)
    if not key:
        return ""
    prefix = RECORD_LISTS[key][0]
    field = "identifier" if key == "related_works" else "funder_name"
    rows = record.get(key, [])
    if verb == "add":
        return f"id_{prefix}-{len(rows) - 1}-{field}"
    if verb == "remove" and i is not None:
        return f"id_{prefix}-{min(i, len(rows) - 1)}-{field}" if rows else f"{prefix}-add"
    return ""


def edit_author_rows(rows: list[dict], action: str, *, organization: str = "") -> list[dict]:
    """Apply one of the form's row buttons: ``add``, ``add-organization``, ``remove:<i>``,
    ``up:<i>`` or ``down:<i>``. Unknown actions and indexes leave the rows as they are."""
    rows = list(rows)
    verb, _, index = action.partition(":")
    i = _row_number(index)
    if verb == "add" and len(rows) < MAX_AUTHORS:
        rows.append({"type": PERSONAL})
    elif verb == "add-organization" and organization and len(rows) < MAX_AUTHORS:
        rows.append({"type": ORGANIZATIONAL, "name": organization})
    elif i is not None and i < len(rows):
        if verb == "remove":
            del rows[i]
        elif verb == "up" and i > 0:
            rows[i - 1], rows[i] = rows[i], rows[i - 1]
        elif verb == "down" and i + 1 < len(rows):
            rows[i], rows[i + 1] = rows[i + 1], rows[i]
    return rows


def focus_after(action: str, rows: list[dict]) -> str:
    """The id of the element to focus once ``action`` re-rendered the rows, so a keyboard user
    stays where they were: the moved row's button, the new row's name, the next row."""
    verb, _, index = action.partition(":")
    last = len(rows) - 1
    if verb in ("add", "add-organization"):
        return f"id_{AUTHORS_PREFIX}-{last}-name"
    i = _row_number(index)
    if i is None:
        return ""
    if verb == "remove":
        return f"id_{AUTHORS_PREFIX}-{min(i, last)}-name" if rows else "author-add"
    if verb in ("up", "down"):
        moved = max(i - 1, 0) if verb == "up" else min(i + 1, last)
        if verb == "up":
            return f"author-{moved}-up" if moved > 0 else f"author-{moved}-down"
        return f"author-{moved}-down" if moved < last else f"author-{moved}-up"
    return ""
