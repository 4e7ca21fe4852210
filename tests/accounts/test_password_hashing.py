"""Passwords are hashed with Argon2 (Django's recommended hasher); a hash made by an older hasher
is replaced by an Argon2 one the next time its owner signs in, through the API or the admin.

The test settings hash with MD5 for speed: these tests put the configured hashers back."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from apps.tenancy.roles import Role
from config.settings import base
from tests.factories import OrganizationFactory, UserFactory, member

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def configured_hashers(settings):
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS


def test_argon2_comes_first_and_older_hashes_still_verify():
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in base.PASSWORD_HASHERS[1:]


def test_registration_stores_an_argon2_hash(configured_hashers):
    response = APIClient().post(
        "/api/v1/auth/register",
        {"email": "new.user@example.test", "password": "a long enough passphrase 42", "first_name": "New"},
        format="json",
    )

    assert response.status_code == 202, response.content
    user = get_user_model().objects.get(email="new.user@example.test")
    assert user.password.startswith("argon2$argon2id$")


def test_signing_in_through_the_api_upgrades_a_pbkdf2_hash(configured_hashers):
    user = UserFactory()
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    response = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)


def test_a_wrong_password_leaves_the_old_hash_alone(configured_hashers):
    user = UserFactory()
    old_hash = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.password = old_hash
    user.save(update_fields=["password"])

    response = APIClient().post("/api/v1/auth/login", {"email": user.email, "password": "wrong" * 4}, format="json")

    assert response.status_code == 401
    user.refresh_from_db()
    assert user.password == old_hash


def test_signing_in_to_the_admin_upgrades_a_pbkdf2_hash(configured_hashers):
    user = member(OrganizationFactory(), Role.ORG_ADMIN)
    user.password = make_password(PASSWORD, hasher="pbkdf2_sha256")
    user.save(update_fields=["password"])

    response = Client().post(reverse("admin:login"), {"username": user.email, "password": PASSWORD, "next": "/admin/"})

    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
