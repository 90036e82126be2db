"""The host end of the link against a scripted fake device on a pseudo-terminal: what the
device sends damaged, out of order or after a reboot is counted, never delivered."""

from __future__ import annotations

import os
import time
import tty
from typing import Iterator

import pytest

from vigil.device import protocol as p
from vigil.device.link import Link
from vigil.errors import LinkError


class FakeDevice:
    def __init__(self) -> None:
        self.master, slave = os.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave

    def send(self, frame: p.Frame) -> None:
        os.write(self.master, p.encode(frame))

    def raw(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        os.close(self.master)
        os.close(self._slave)


def hello(boot_id: int) -> bytes:
    return p.Hello(1, boot_id, "fake", "0.0.1", "000000000000", 50, 64, 512, 4, 1000).pack()


@pytest.fixture()
def fake() -> Iterator[FakeDevice]:
    dev = FakeDevice()
    yield dev
    dev.close()


def test_damaged_frames_from_the_device_are_counted(fake: FakeDevice) -> None:
    with Link.open(fake.path) as link:
        good = p.encode(p.Frame(p.MsgType.ECHO_REPLY, 0, b"one"))
        damaged = bytearray(p.encode(p.Frame(p.MsgType.ECHO_REPLY, 1, b"two")))
        damaged[5] ^= 0x10
        fake.raw(good + bytes(damaged) + b"\x07\x07\x00" + p.encode(p.Frame(p.MsgType.ECHO_REPLY, 2, b"three")))
        assert link.expect(p.MsgType.ECHO_REPLY).payload == b"one"
        assert link.expect(p.MsgType.ECHO_REPLY).payload == b"three"
        time.sleep(0.05)
        assert link.counters.crc_errors + link.counters.framing_errors == 2
        assert link.counters.seq_gaps == 1  # frame 1 never arrived intact
        assert link.drain() == []


def test_reboot_is_counted_and_resets_sequence(fake: FakeDevice) -> None:
    with Link.open(fake.path) as link:
        fake.send(p.Frame(p.MsgType.HELLO, 0, hello(1)))
        fake.send(p.Frame(p.MsgType.CREDIT, 1, p.Credit(5, 4).pack()))
        link.expect(p.MsgType.CREDIT)
        assert link.credit_consumed == 5
        fake.send(p.Frame(p.MsgType.HELLO, 0, hello(2)))  # a new boot starts at seq 0 again
        link.expect(p.MsgType.HELLO)
        assert link.counters.reboots == 1
        assert link.counters.seq_gaps == 0
        assert link.credit_consumed == 0


def test_silence_is_a_clear_timeout(fake: FakeDevice) -> None:
    with Link.open(fake.path) as link:
        with pytest.raises(LinkError, match="did not answer HELLO_REQ"):
            link.request_hello(timeout=0.3)


def test_missing_port_is_one_clear_error() -> None:
    with pytest.raises(LinkError, match="no such serial port"):
        Link.open("/dev/pts/does-not-exist")


def test_credit_stall_is_reported(fake: FakeDevice) -> None:
    with Link.open(fake.path) as link:
        link.hello = p.Hello.unpack(hello(3))
        # The device's answer to the STATS_REQ that starts every replay: 0 frames consumed so far.
        fake.send(p.Frame(p.MsgType.STATS, 0, p.pack_stats({"sample_frames_consumed": 0})))
        frames = [p.Samples(0, i, (1, 2, 3)) for i in range(6)]
        with pytest.raises(LinkError, match="no credit from the device"):
            link.send_samples(frames, timeout=0.3)
        assert link.counters.frames_tx == 1 + 4  # STATS_REQ, then exactly the slots the device announced


def test_port_in_use_is_one_clear_error(fake: FakeDevice) -> None:
    with Link.open(fake.path):
        with pytest.raises(LinkError, match="in use by another program"):
            Link.open(fake.path)
