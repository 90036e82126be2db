"""The end of a live session on a host slower than the device (issue 15's soak found it): the CONFIG_ACK that ends
live mode queues behind the session's backlog, so ``stop_live`` waits as long as frames keep coming and gives up only
after a quiet spell, naming what never came."""

from __future__ import annotations

import time

import pytest

from vigil.device import protocol as p
from vigil.errors import LinkError
from vigil.live import stop_live


class BackloggedLink:
    """A link whose device still has ``backlog`` frames to send, each taking ``gap_s`` to read, then (when
    ``acks``) the CONFIG_ACK; after that, nothing."""

    path = "/dev/fake"

    def __init__(self, backlog: int, gap_s: float, acks: bool) -> None:
        self.frames = [p.Frame(p.MsgType.SLEEP, i) for i in range(backlog)]
        if acks:
            self.frames.append(p.Frame(p.MsgType.CONFIG_ACK, backlog))
        self.gap_s = gap_s
        self.sent: list[tuple[int, bytes]] = []

    def send(self, type_: int, payload: bytes) -> None:
        self.sent.append((type_, payload))

    def recv(self, timeout: float) -> p.Frame:
        if not self.frames:
            time.sleep(timeout)
            raise LinkError(f"{self.path}: no frame from the device within {timeout:g} s")
        time.sleep(min(self.gap_s, timeout))
        return self.frames.pop(0)


def test_a_backlog_longer_than_the_idle_limit_still_ends_at_the_ack() -> None:
    link = BackloggedLink(backlog=40, gap_s=0.01, acks=True)  # 0.4 s of backlog, 8 times the idle limit
    started = time.monotonic()
    stop_live(link, 64, idle_s=0.05)  # type: ignore[arg-type]
    assert time.monotonic() - started >= 0.4 and not link.frames
    assert link.sent == [(p.MsgType.CONFIG, p.Config(64, 0).pack())]


def test_a_device_that_goes_quiet_is_reported_in_one_line() -> None:
    link = BackloggedLink(backlog=5, gap_s=0.0, acks=False)
    with pytest.raises(LinkError, match=r"^/dev/fake: no frame from the device within 0.05 s; the session's end "
                                        r"\(CONFIG_ACK\) never came$"):  # fmt: skip
        stop_live(link, 64, idle_s=0.05)  # type: ignore[arg-type]
