"""Local stand-ins for external services, started by `make run` and by tests.

Each one speaks real HTTP the way the real service does, so our adapters and everything
behind them cross a real wire in development and in tests. They use the standard library
only and import nothing of Manifest: they play the other side.
"""
