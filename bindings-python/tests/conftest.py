from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from wsserver import Server  # noqa: E402


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()
