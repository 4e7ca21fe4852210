"""devstack's embedded PostgreSQL 18: a data directory of another major is moved aside, said so,
and never while a server still runs on it; its settings are written into postgresql.conf."""

import pytest

from devstack import services
from devstack.services import EmbeddedPostgres, _write_settings


@pytest.fixture
def embedded(tmp_path):
    postgres = EmbeddedPostgres()
    postgres.data_dir = tmp_path / "postgres"
    postgres.data_dir.mkdir()
    return postgres


def test_a_data_directory_of_postgresql_16_is_moved_aside_and_said_so(embedded, capsys):
    (embedded.data_dir / "PG_VERSION").write_text("16\n")
    (embedded.data_dir / "base").mkdir()

    embedded._retire_other_major()

    [retired] = [path for path in embedded.data_dir.parent.iterdir() if path.name.startswith("postgres-16-")]
    assert not embedded.data_dir.exists()
    assert (retired / "PG_VERSION").read_text() == "16\n" and (retired / "base").is_dir()
    error = capsys.readouterr().err
    assert "made by PostgreSQL 16" in error and str(retired) in error and "PostgreSQL 18" in error


def test_a_data_directory_of_postgresql_18_is_kept(embedded, capsys):
    (embedded.data_dir / "PG_VERSION").write_text("18\n")

    embedded._retire_other_major()

    assert (embedded.data_dir / "PG_VERSION").exists()
    assert capsys.readouterr().err == ""


def test_a_data_directory_still_served_by_postgresql_16_is_refused_untouched(embedded, monkeypatch):
    (embedded.data_dir / "PG_VERSION").write_text("16\n")
    monkeypatch.setattr(services, "_postmaster_pid", lambda data_dir: 4242)

    with pytest.raises(SystemExit, match=r"PostgreSQL 16 server \(pid 4242\) still runs on it"):
        embedded._retire_other_major()

    assert (embedded.data_dir / "PG_VERSION").read_text() == "16\n"


def test_settings_are_written_once_and_replaced_not_appended(tmp_path):
    conf = tmp_path / "postgresql.conf"
    conf.write_text("max_connections = 100\n# Add settings for extensions here")

    _write_settings(conf, {"shared_preload_libraries": "'pg_stat_statements'"})
    _write_settings(conf, {"shared_preload_libraries": "'pg_stat_statements'"})
    once = conf.read_text()
    _write_settings(conf, {"shared_preload_libraries": "'pg_stat_statements,auto_explain'"})

    assert once.count("shared_preload_libraries") == 1
    assert once.startswith("max_connections = 100\n# Add settings for extensions here\n")
    assert conf.read_text().count("shared_preload_libraries") == 1
    assert "shared_preload_libraries = 'pg_stat_statements,auto_explain'\n" in conf.read_text()
