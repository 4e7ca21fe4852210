"""Drawing previews of untrusted files in a child process with limits (KYC documents, dispute
evidence: each caller builds its PreviewLimits from its own settings).

A hostile PDF of a few kilobytes can make PDFium draw for minutes and take gigabytes (a
page of a million strokes does both). The Celery worker therefore never draws in its own
process: it starts `python -m apps.core.preview_sandbox`, which lowers its own address-space
and CPU limits (`resource.setrlimit`) before it imports PDFium, reads the file on stdin and
writes the PNG on stdout. The parent waits at most `limits.timeout_seconds`. Whatever the
child does (runs out of memory and aborts, is killed at its CPU limit, hangs), the worker
lives on and the caller records the preview as unavailable with the reason.

The child gets an empty environment: it needs no settings, and must not see secrets.
"""

from __future__ import annotations

import logging
import resource
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

EXIT_REFUSED = 3  # beyond a limit the drawing code checks itself (page size, pixels)
EXIT_UNREADABLE = 4  # Pillow or PDFium cannot draw the file
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class PreviewLimits:
    """What one drawing may use and produce; each caller reads its own settings into one."""

    timeout_seconds: float  # wall time, also the child's CPU time
    memory_bytes: int  # the child's address space
    max_pages: int  # of a PDF, the first ones, stacked
    max_pixels: int  # of the whole preview; pages past it are left out
    max_width: int


@dataclass(frozen=True)
class PreviewOutcome:
    png: bytes | None
    reason: str  # why there is no preview, for the reviewer; "" when there is one


def render_in_sandbox(
    *, data: bytes, content_type: str, limits: PreviewLimits, log_context: Mapping[str, str] | None = None
) -> PreviewOutcome:
    """Draw the preview in a limited child process; never raises for anything the file does.

    `log_context` (e.g. the document's or evidence's id) goes into the warning logged when the
    child dies in an unexpected way, so the file can be found."""
    command = [
        sys.executable,
        "-m",
        "apps.core.preview_sandbox",
        content_type,
        str(limits.max_width),
        str(limits.max_pages),
        str(limits.max_pixels),
        str(limits.memory_bytes),
        str(max(1, int(limits.timeout_seconds))),
    ]
    try:
        child = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
            command,
            input=data,
            capture_output=True,
            timeout=limits.timeout_seconds,
            cwd=PROJECT_ROOT,
            env={},
            check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed the child
        return PreviewOutcome(None, f"Drawing the preview took longer than {limits.timeout_seconds:g} seconds.")
    message = child.stderr.decode("utf-8", "replace").strip().splitlines()
    if child.returncode == 0 and child.stdout.startswith(b"\x89PNG"):
        return PreviewOutcome(child.stdout, "")
    if child.returncode == EXIT_REFUSED and message:
        return PreviewOutcome(None, message[-1])
    if child.returncode == EXIT_UNREADABLE:
        return PreviewOutcome(None, "The file cannot be drawn: it is damaged or uses features the viewer lacks.")
    logger.warning(
        "file_preview.child_failed",
        extra={
            **(log_context or {}),
            "returncode": child.returncode,
            "stderr_tail": message[-3:],
            "content_type": content_type,
        },
    )
    if child.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # RLIMIT_CPU: soft, then hard
        return PreviewOutcome(None, f"Drawing the preview used up its {limits.timeout_seconds:g} seconds of CPU time.")
    # PDFium aborts when an allocation fails, Python raises MemoryError: both are the memory limit.
    megabytes = limits.memory_bytes // (1024 * 1024)
    return PreviewOutcome(
        None,
        f"Drawing the preview stopped (exit {child.returncode}): it needed more than its {megabytes} MB of memory.",
    )


def _child(arguments: list[str]) -> int:
    content_type, max_width, max_pages, max_pixels, memory_bytes, cpu_seconds = arguments
    # Limits first: everything after, PDFium's import included, lives within them.
    resource.setrlimit(resource.RLIMIT_AS, (int(memory_bytes), int(memory_bytes)))
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    from apps.core.previews import PreviewRefused, render_preview_png

    data = sys.stdin.buffer.read()
    try:
        png = render_preview_png(
            data, content_type, max_width=int(max_width), max_pages=int(max_pages), max_pixels=int(max_pixels)
        )
    except PreviewRefused as refused:
        sys.stderr.write(f"{refused}\n")
        return EXIT_REFUSED
    if png is None:
        return EXIT_UNREADABLE
    sys.stdout.buffer.write(png)
    return 0


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
