"""Local stand-ins for external services, started by `make run` and by tests.

Each one speaks real HTTP the way the real service does, so our adapters and everything
behind them cross a real wire in development and in tests. They import nothing of Manifest
(they play the other side) and share only sandboxes/serving.py, the threaded server they run
on; besides the standard library, the mail catcher uses aiosmtpd and the push service the
cryptography it must check (http_ece, PyJWT).
"""
