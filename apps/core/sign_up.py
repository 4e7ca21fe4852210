"""What other contexts add to sign-up, registered by them, so that accounts imports none of them
(docs/architecture.md, "Boundaries"): each extension reads one optional field of the sign-up
form (points: `referral_code`), checks it before anything is created, and records what it means
once the person exists, inside the registration's own transaction.

accounts' `user_register` calls `sign_up_extensions_check` first (a bad value is a 400 on its
field and nothing is created, whether or not the address was taken) and
`sign_up_extensions_record` right after it created the user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class SignUpExtension:
    # The sign-up field it reads (a blank or missing value means the person gave none).
    field: str
    # check(value): returns nothing, or raises ValidationFailed naming `field` in its details.
    check: Callable[[str], None]
    # record(*, user, value): what the value means for the new person; runs in the
    # registration's transaction, so an error there undoes the sign-up.
    record: Callable[..., None]


_extensions: dict[str, SignUpExtension] = {}


def sign_up_extension_register(extension: SignUpExtension) -> None:
    """Register an extension (in an AppConfig.ready); one per field."""
    _extensions[extension.field] = extension


def sign_up_fields() -> tuple[str, ...]:
    """The extra fields sign-up understands."""
    return tuple(_extensions)


def _given(values: Mapping[str, str] | None):
    for field, extension in _extensions.items():
        value = (values or {}).get(field) or ""
        if value.strip():
            yield extension, value


def sign_up_extensions_check(values: Mapping[str, str] | None) -> None:
    """Check every given extra field; the first bad one raises (nothing is created yet)."""
    for extension, value in _given(values):
        extension.check(value)


def sign_up_extensions_record(*, user, values: Mapping[str, str] | None) -> None:
    """Record every given extra field for the person just created."""
    for extension, value in _given(values):
        extension.record(user=user, value=value)
