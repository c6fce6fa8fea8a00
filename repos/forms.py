from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, When

from accounts.models import Namespace
from repos.cards import parse_card
from repos.models import Repo
from repos.paths import normalize, validate_path

VISIBILITY_CHOICES = [
    ("public", "Public — anyone can see it; only you decide who can change it."),
    ("private", "Private — only you, or the organization's members, can see it."),
]


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Namespace) -> str:
        return obj.name


def _owner_field(queryset, user) -> OwnerChoiceField:
    # The user's own namespace first, then organizations alphabetically.
    ordered = queryset.order_by(Case(When(pk=user.namespace_id, then=0), default=1), "name")
    return OwnerChoiceField(queryset=ordered, label="Owner", empty_label=None)


class RepoCreateForm(forms.ModelForm):
    visibility = forms.ChoiceField(
        label="Visibility",
        choices=VISIBILITY_CHOICES,
        initial="public",
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Repo
        fields = ["namespace", "name"]
        help_texts = {
            "name": "Letters, digits, '-', '_' and '.'; at most 96 characters; "
            "no '--' or '..'; not starting or ending with '-' or '.'.",
        }

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["namespace"] = _owner_field(Namespace.objects.writable_by(user), user)
        self.initial["namespace"] = self.instance.namespace_id or user.namespace_id
        self.fields["name"].widget.attrs.update(autocomplete="off", spellcheck="false")

    def clean(self) -> dict:
        cleaned = super().clean()
        self.instance.private = cleaned.get("visibility") == "private"
        return cleaned


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data] if data else []
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class StoredFilesField(forms.Field):
    """Files the upload page sent straight to the object store, each named "<SHA-256> <name>"."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[tuple[str, str]]:
        entries = []
        for entry in value or []:
            sha256, _, name = str(entry).partition(" ")
            if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256) or not name:
                raise ValidationError(
                    "A file sent to the object store is named by its SHA-256 and name; this "
                    "one is not. Choose the file again. Nothing was committed."
                )
            entries.append((sha256, name))
        return entries


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="Files",
        required=False,
        help_text="Choose one or more files. Files with the same name replace the current ones.",
    )
    stored = StoredFilesField(required=False)
    folder = forms.CharField(
        label="Folder",
        required=False,
        max_length=200,
        help_text="Optional, e.g. “data/train”. Leave empty to put the files at the top.",
    )
    message = forms.CharField(label="Commit message", max_length=500, initial="Upload files")

    def clean_folder(self) -> str:
        folder = normalize(self.cleaned_data["folder"].strip().strip("/"))
        if folder:
            validate_path(folder)
        return folder

    def clean(self) -> dict:
        cleaned = super().clean()
        folder = cleaned.get("folder", "")
        paths, stored = {}, {}
        named = [(upload.name, upload) for upload in cleaned.get("files", [])]
        named += [(name, sha256) for sha256, name in cleaned.get("stored", [])]
        if self.has_error("stored"):
            # A hidden field: its error is shown above the form.
            self.add_error(None, self.errors.pop("stored"))
        elif not named:
            self.add_error("files", "Choose at least one file to upload.")
        for name, content in named:
            name = normalize(name)
            path = f"{folder}/{name}" if folder else name
            try:
                validate_path(path)
            except ValidationError as exc:
                self.add_error("files", exc)
                continue
            if isinstance(content, str):
                stored[path] = content
            else:
                paths[path] = content
        # "paths": what comes inside the commit; "stored": path → SHA-256 of what was sent to
        # the object store.
        cleaned["paths"], cleaned["stored_paths"] = paths, stored
        return cleaned


class LargeFileForm(forms.Form):
    """A large file the upload page is about to send straight to the object store."""

    sha256 = forms.RegexField(regex=r"^[0-9a-f]{64}$", max_length=64)
    size = forms.IntegerField(min_value=0)


class CardForm(forms.Form):
    content = forms.CharField(
        label="Model card (README.md)",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "true"}),
        help_text="Markdown. An optional YAML block between “---” lines at the top holds "
        "metadata such as license, tags, datasets and language.",
    )
    message = forms.CharField(label="Commit message", max_length=500, initial="Update README.md")

    def __init__(self, *args, dataset: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if dataset:
            self.fields["content"].label = "Dataset card (README.md)"

    def clean_content(self) -> str:
        content = self.cleaned_data["content"]
        refused = parse_card(content).refused
        if refused:
            raise ValidationError(f"{refused} Nothing was saved.")
        return content


class RenameForm(forms.Form):
    namespace = OwnerChoiceField(queryset=Namespace.objects.none(), label="Owner")
    name = forms.CharField(label="Name", max_length=200)

    def __init__(self, *args, user, repo: Repo, **kwargs) -> None:
        kwargs.setdefault("initial", {"namespace": repo.namespace_id, "name": repo.name})
        super().__init__(*args, **kwargs)
        self.fields["namespace"] = _owner_field(Namespace.objects.administered_by(user), user)
        self.fields["namespace"].help_text = "You can move it to an organization you administer."
        self.fields["name"].widget.attrs.update(autocomplete="off", spellcheck="false")


class DeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the full name to confirm", max_length=200)

    def __init__(self, *args, repo: Repo, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.repo = repo
        self.fields["confirm"].label = f"Type “{repo.full_name}” to confirm"
        self.fields["confirm"].widget.attrs.update(autocomplete="off", spellcheck="false")

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.repo.full_name:
            raise ValidationError(
                f"That is not “{self.repo.full_name}”. Type the full name exactly to delete it."
            )
        return value
