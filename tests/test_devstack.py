"""`make run` with port 8000 taken says so, and honours PORT."""

import socket

from devstack.__main__ import run


def test_run_refuses_a_taken_port_and_names_the_way_out(monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        monkeypatch.setenv("PORT", str(port))

        assert run() == 1

    error = capsys.readouterr().err
    assert f"Port {port} is already in use" in error
    assert f"PORT={port + 1} make run" in error
