"""A short version of the load test (eval/load_test.py) against a real `govqa serve` on loopback:
10 concurrent clients for 10 seconds, no 5xx, no request without a response, no demand-log row lost.

The full run (50 clients × 60 s) is `python -m eval.load_test --serve --clients 50 --seconds 60`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from assistant.demand_log import DemandLog
from eval.load_test import free_port, report, run_load, start_server

pytestmark = pytest.mark.slow


def test_short_load_is_served_without_errors_and_loses_no_row(data_dir_copy: Path, kb_copy: Path):
    data = data_dir_copy
    before = DemandLog(data / "demand.sqlite").count()
    server = start_server({**os.environ, "GOVQA_DATA_DIR": str(data), "GOVQA_KB_DIR": str(kb_copy),
                           "GOVQA_RATE_LIMIT": "30/minute"}, free_port())
    try:
        result = asyncio.run(run_load(server.url, data / "demand.sqlite", clients=10, seconds=10))
    finally:
        log = server.stop()
    print(report(result))
    assert result["answered_200"] > 0 and result["health_after"] == 200
    assert result["5xx"] == 0 and result["errors"] == 0 and result["429"] == 0    # loopback is exempt
    assert set(result["status"]) <= {200, 400, 422}       # hostile questions: a clear 4xx, never a 500
    assert result["rows_lost"] == 0 and result["rows_unexpected"] == 0
    assert "Traceback" not in log
    # on disk after the shutdown: every answer of the run, and the warm-up question before it
    assert DemandLog(data / "demand.sqlite").count() == before + 1 + result["answered_200"]
