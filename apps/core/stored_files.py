"""Which stored files rows reference, and which files a storage holds.

Every file the project stores is named by a FileField (KYC documents and their previews,
generated and signed documents, template logos, purchase invoices, return photos, personal
data exports, and whatever field comes next): the fields are found by introspection, as
`apps.core.rls` finds tenant tables, so a new one is covered without being listed here.
Storage is reached through Django's storage API only (local disk by default, S3 in
production), so the same code lists a folder and a bucket.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from django.apps import apps
from django.core.files.storage import Storage
from django.db import models


def file_fields() -> list[tuple[type[models.Model], models.FileField]]:
    """(model, field) for every FileField (ImageField included) of every installed model."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        found.extend((model, field) for field in model._meta.concrete_fields if isinstance(field, models.FileField))
    return found


def referenced_names() -> dict[Storage, set[str]]:
    """Per storage, the names of the files some row references.

    Reads every tenant's rows: call it inside `system_scope`.
    """
    referenced: dict[Storage, set[str]] = defaultdict(set)
    for model, field in file_fields():
        names = (
            model._base_manager.exclude(**{f"{field.attname}__isnull": True})
            .exclude(**{field.attname: ""})
            .values_list(field.attname, flat=True)
        )
        referenced[field.storage].update(names.iterator(chunk_size=5000))
    return referenced


def stored_names(storage: Storage, folder: str = "") -> Iterator[str]:
    """Every file name under `folder` of `storage`, depth first (storage.listdir works on S3 too)."""
    folders, files = storage.listdir(folder)
    for name in files:
        yield f"{folder}/{name}" if folder else name
    for name in folders:
        yield from stored_names(storage, f"{folder}/{name}" if folder else name)
