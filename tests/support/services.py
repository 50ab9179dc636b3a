"""The services the tests need (MariaDB, Redis, Chromium): fail in CI when one is missing,
skip on a laptop."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(message: str) -> None:
    """A service the tests need is missing.

    CI fails (nothing may be skipped there), a laptop skips.
    """
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
