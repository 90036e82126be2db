"""The link end to end on real firmware: every test runs on the native build and on the
virtual wrist board (QEMU Cortex-M4F)."""

from __future__ import annotations

import re
import struct
import time

import pytest

from vigil.device import linkcheck
from vigil.device import protocol as p
from vigil.device.link import Link

pytestmark = pytest.mark.board


def test_boot_announces_hello(link: Link, board) -> None:
    hello = link.hello
    assert hello is not None
    assert hello.board == board.board
    assert hello.protocol_version == p.PROTOCOL_VERSION
    assert re.fullmatch(r"\d+\.\d+\.\d+", hello.firmware_version)
    assert re.fullmatch(r"[0-9a-f]{12}", hello.build_id), hello.build_id
    assert (hello.accel_rate_hz, hello.ppg_rate_hz) == (p.ACCEL_RATE_HZ, p.PPG_RATE_HZ)
    assert (hello.max_payload, hello.sample_slots) == (p.MAX_PAYLOAD, p.SAMPLE_SLOTS)
    # the models of models/ (vigil export models), in vigil_models.h's order
    sleep = "sleep_context" if "sleep_context" in {m.name for m in hello.models} else "sleep_cnn"
    assert [m.name for m in hello.models] == [sleep, "stress_nn", "stress_tree", "stress_svm", "stress_consensus"]
    assert hello.ticks_per_second > 0


def test_ping_answers_with_device_time(link: Link) -> None:
    first, _ = link.ping(b"a")
    time.sleep(0.05)
    second, rtt = link.ping(b"b")
    assert second.echo == b"b"
    assert second.device_ms > first.device_ms
    assert rtt < 1.0


def test_ten_thousand_echoes_lose_nothing(link: Link) -> None:
    result = linkcheck.echo_test(link, count=10_000, seed=11)
    assert result.replies == 10_000
    assert result.mismatched == 0
    stats = link.stats()
    assert stats["crc_errors"] == stats["framing_errors"] == stats["seq_gaps"] == 0
    assert link.counters.seq_gaps == link.counters.crc_errors == link.counters.framing_errors == 0


def test_one_megabyte_replay_under_flow_control(link: Link) -> None:
    result = linkcheck.replay_test(link, total_bytes=1_000_000, seed=5)
    assert result.bytes >= 1_000_000
    assert result.device_samples == result.samples
    assert result.device_frames == result.frames
    assert result.crc_device == result.crc_expected
    assert result.overflows == 0 and result.index_gaps == 0
    assert 1 <= result.queue_high_water <= result.queue_slots == p.SAMPLE_SLOTS


def test_frames_beyond_credit_are_refused_and_counted(link: Link) -> None:
    """With consumption paused, exactly SAMPLE_SLOTS frames fit; the next one is refused
    with NO_CREDIT (never silently dropped), and the slots come back as credit later."""
    before = link.stats()
    link.send(p.MsgType.SAMPLES_HOLD, b"\x01")
    frames = linkcheck.sample_frames(2 * p.Samples.MAX_SAMPLES * (p.SAMPLE_SLOTS + 1), channels=1, seed=3)
    for frame in frames[: p.SAMPLE_SLOTS + 1]:
        link.send(p.MsgType.SAMPLES, frame.pack())
    error = p.ErrorReport.unpack(link.expect(p.MsgType.ERROR).payload)
    assert error.code == p.ErrorCode.NO_CREDIT
    assert error.offending_type == p.MsgType.SAMPLES
    # the device's own count, as send_samples anchors it: this Link's last CREDIT can be older than frames another
    # session on the same board (a CLI replay) had consumed, and waiting from it returned before all four were
    link.send(p.MsgType.SAMPLES_HOLD, b"\x00")
    link.wait_credit(before["sample_frames_consumed"] + p.SAMPLE_SLOTS)
    after = link.stats()
    assert after["sample_overflows"] - before["sample_overflows"] == 1
    assert after["sample_frames_consumed"] - before["sample_frames_consumed"] == p.SAMPLE_SLOTS
    assert after["sample_queue_high_water"] == p.SAMPLE_SLOTS


@pytest.mark.parametrize("seed", [1, 2])
def test_injected_faults_are_counted_and_never_delivered(link: Link, seed: int) -> None:
    result = linkcheck.fault_test(link, rounds=90, seed=seed)
    assert set(result.by_kind) == set(linkcheck.FAULT_KINDS)
    assert result.foreign_replies == 0
    assert result.replies == result.valid_frames
    assert result.device_errors == result.predicted_errors
    assert result.device_gaps == result.predicted_gaps
    # Every class of damage was seen by the device, not just predicted.
    assert result.device_errors["crc_errors"] > 0
    assert result.device_errors["framing_errors"] > 0
    assert result.device_errors["oversize_errors"] == result.by_kind["oversize"]
    # And the link still works afterwards.
    assert linkcheck.echo_test(link, count=50, seed=seed).ok


def test_bad_requests_get_an_error_frame(link: Link) -> None:
    before = link.stats()
    seq = link.send(0x55)
    err = p.ErrorReport.unpack(link.expect(p.MsgType.ERROR).payload)
    assert (err.code, err.offending_type, err.offending_seq) == (p.ErrorCode.UNKNOWN_TYPE, 0x55, seq)
    link.send(p.MsgType.PING, bytes(p.PING_MAX + 1))
    assert p.ErrorReport.unpack(link.expect(p.MsgType.ERROR).payload).code == p.ErrorCode.BAD_PAYLOAD
    link.send(p.MsgType.SAMPLES, struct.pack("<BBI", p.SAMPLE_CHANNELS, 0, 0) + b"\0\0")
    assert p.ErrorReport.unpack(link.expect(p.MsgType.ERROR).payload).code == p.ErrorCode.BAD_CHANNEL
    after = link.stats()
    assert after["unknown_types"] - before["unknown_types"] == 1
    assert after["bad_payloads"] - before["bad_payloads"] == 2


@pytest.mark.parametrize("mtype, length", [(p.MsgType.HELLO_REQ, 100), (p.MsgType.COST_REQ, 512),
                                           (p.MsgType.STATS_REQ, 1), (p.MsgType.RESET, 1), (p.MsgType.CONFIG, 4),
                                           (p.MsgType.SAMPLES_HOLD, 0), (p.MsgType.NN_RUN, 2)])  # fmt: skip
def test_a_payload_where_the_type_takes_another_length_is_refused_and_counted(link: Link, mtype: int,
                                                                             length: int) -> None:  # fmt: skip
    """docs/protocol.md's payload per type, enforced by the device from the generated rules (protocol.PAYLOAD_BOUNDS):
    an ERROR naming the frame, the bad_payloads count, and no answer (a RESET with a payload does not reset)."""
    assert not p.payload_len_ok(mtype, length)
    before = link.stats()
    seq = link.send(mtype, bytes(range(256)) * (length // 256) + bytes(length % 256))
    err = p.ErrorReport.unpack(link.expect(p.MsgType.ERROR).payload)
    assert (err.code, err.offending_type, err.offending_seq) == (p.ErrorCode.BAD_PAYLOAD, mtype, seq)
    after = link.stats()  # the same boot: the RESET did not happen
    assert after["bad_payloads"] - before["bad_payloads"] == 1 and link.hello.boot_id == link.request_hello().boot_id


def test_stats_report_stack_and_uptime(link: Link) -> None:
    stats = link.stats()
    assert 0 < stats["stack_high_water"] < stats["stack_size"]
    assert stats["uptime_ms"] > 0
    assert stats["frames_tx"] >= stats["frames_rx"] - stats["sample_frames_rx"] - 1


def test_reset_gives_a_new_boot_that_the_host_counts(link: Link) -> None:
    old = link.hello.boot_id
    hello = link.reset(timeout=10)
    assert hello.boot_id != old
    assert link.counters.reboots == 1
    stats = link.stats()
    assert stats["frames_rx"] < 10  # a fresh boot: counters start again
    assert linkcheck.echo_test(link, count=20).ok
