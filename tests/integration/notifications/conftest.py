"""Every notifications test starts with fresh provider simulators (they are process-wide)."""

from __future__ import annotations

import pytest

from o2o.notifications import backends


@pytest.fixture(autouse=True)
def sims():
    return backends.reset_simulated()
