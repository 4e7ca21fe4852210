"""Every text field of the API takes a JSON string only (apps.core.api.fields.StrictCharField).

DRF's own CharField (and EmailField, URLField, ...) turns a JSON number into text; the API
declares the strict variants, and ModelSerializer builds them. The walk below fails when a
serializer under apps/ has a field of DRF's plain text classes, declared or built.
"""

import importlib
import pkgutil

import pytest
from rest_framework import serializers

import apps
from apps.core.api.fields import (
    STRICT_TEXT_FIELDS,
    StrictCharField,
    StrictEmailField,
    StrictIPAddressField,
    StrictRegexField,
    StrictSlugField,
    StrictURLField,
)


def _project_serializers() -> list[type[serializers.BaseSerializer]]:
    for module in pkgutil.walk_packages(apps.__path__, "apps."):
        if ".migrations" not in module.name:
            importlib.import_module(module.name)
    found, pending = set(), [serializers.BaseSerializer]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("apps."):
                found.add(subclass)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _text_fields(field, path: str):
    """(path, field) of every text field in a serializer, nested serializers and lists included."""
    if isinstance(field, serializers.ListSerializer):
        yield from _text_fields(field.child, f"{path}[]")
    elif isinstance(field, serializers.Serializer):
        for name, child in field.fields.items():
            yield from _text_fields(child, f"{path}.{name}")
    elif isinstance(field, serializers.ListField | serializers.DictField):
        yield from _text_fields(field.child, f"{path}[]")
    elif isinstance(field, serializers.CharField):
        yield path, field


def test_no_serializer_under_apps_has_a_plain_drf_text_field():
    classes = _project_serializers()
    plain, seen = [], 0
    for serializer in classes:
        for path, field in _text_fields(serializer(), f"{serializer.__module__}.{serializer.__qualname__}"):
            seen += 1
            if not isinstance(field, StrictCharField):
                plain.append(f"{path}: {type(field).__module__}.{type(field).__name__}")

    assert len(classes) > 50 and seen > 100  # the walk reaches the API's serializers
    assert not plain, "declare apps.core.api.fields.Strict* instead:\n" + "\n".join(plain)


def test_the_walk_finds_a_plain_charfield():
    class Careless(serializers.Serializer):
        nested = serializers.ListField(child=serializers.CharField())

    assert [path for path, field in _text_fields(Careless(), "Careless")] == ["Careless.nested[]"]


def test_model_serializers_build_the_strict_variants():
    mapping = serializers.ModelSerializer.serializer_field_mapping

    assert not set(mapping.values()) & set(STRICT_TEXT_FIELDS)
    assert set(STRICT_TEXT_FIELDS.values()) - {StrictRegexField} <= set(mapping.values())


@pytest.mark.parametrize(
    ("field", "text"),
    [
        (StrictCharField(), "0"),
        (StrictEmailField(), "a@example.com"),
        (StrictURLField(), "https://example.com/"),
        (StrictSlugField(), "a-slug"),
        (StrictRegexField(r"^[0-9]+$"), "12"),
        (StrictIPAddressField(), "127.0.0.1"),
    ],
)
def test_a_strict_field_takes_text_and_refuses_a_number_with_its_own_message(field, text):
    drf = next(base for base in type(field).__mro__ if base in STRICT_TEXT_FIELDS)
    plain = drf(r"^[0-9]+$") if drf is serializers.RegexField else drf()

    assert field.run_validation(text) == text
    for number in (0, 12, 1.5, True):
        with pytest.raises(serializers.ValidationError) as refused:
            field.run_validation(number)
        assert refused.value.detail == [plain.error_messages["invalid"].format(value=number)]
