"""When the device cannot run a model (nn_plan_run fails: an arena overrun, a bad plan), it says so and never lets the
failure pass for an answer (issue 15: the outputs stayed 0, the class became 0 = wake and fed the alert's "awake"
gate, and no ERROR was sent). A native build with VIGIL_TEST_MODEL_FAILURE fails every model run: each SLEEP record is
preceded by ERROR MODEL_FAILED naming it and carries the class SLEEP_CLASS_UNKNOWN, each STRESS record by one for the
stress NN, and no STRESS record has "awake" or an alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.data.synthetic_day import synthetic_day
from vigil.device import board as boards
from vigil.device import flash
from vigil.device import protocol as p
from vigil.device.link import Link
from vigil.records import REASON_AWAKE, SLEEP_CLASS_UNKNOWN, readable_sleep
from vigil.replay import replay

pytestmark = pytest.mark.board


@pytest.fixture(scope="module")
def failing_program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    build = tmp_path_factory.mktemp("model_failure")
    flash.build("native", extra_env={"PLATFORMIO_BUILD_FLAGS": "-DVIGIL_TEST_MODEL_FAILURE",
                                     "PLATFORMIO_BUILD_DIR": str(build)})  # fmt: skip
    return build / "native" / "program"


def test_a_model_that_does_not_run_is_reported_and_never_reads_as_wake(failing_program: Path) -> None:
    rec = synthetic_day(600, 12, "seated", stress=1.0, ppg_rate_hz=64)
    with boards.running_board("native", artifact=failing_program) as proc, Link.open(proc.port) as link:
        link.request_hello()
        got = replay(link, rec, trace=False)
    assert got.sleep and got.stress
    assert all(r["cls"] == SLEEP_CLASS_UNKNOWN and (r["out0"], r["out1"], r["out2"]) == (0, 0, 0) for r in got.sleep)
    assert readable_sleep(got.sleep[0])["class"].startswith("unknown")
    failed = [e for e in got.errors if e.code == p.ErrorCode.MODEL_FAILED]
    assert len(failed) == len(got.errors)  # nothing else went wrong
    sleep_errors = sorted(e.offending_seq for e in failed if e.offending_type == p.MsgType.SLEEP)
    assert sleep_errors == sorted(r["epoch"] & 0xFFFF for r in got.sleep)
    stress_errors = {e.offending_seq for e in failed if e.offending_type == p.MsgType.STRESS}
    assert {r["segment"] for r in got.stress} <= stress_errors
    assert all(r["alert"] == 0 and not r["reasons"] & REASON_AWAKE and r["nn_out0"] == r["nn_out1"] == 0
               for r in got.stress)  # fmt: skip
