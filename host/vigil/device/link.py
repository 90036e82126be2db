"""The host end of the serial link (pyserial).

A reader thread decodes everything the device sends, so the device never blocks on a
full serial buffer while the host is busy writing; frames wait in a queue for
``recv``/``expect``. Every anomaly is counted in ``Link.counters`` (CRC and framing
errors, sequence gaps, reboots), never dropped silently.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable

import serial

from vigil.device import protocol as p
from vigil.errors import LinkError

DEFAULT_TIMEOUT = 5.0
READ_CHUNK = 4096


@dataclass
class LinkCounters:
    frames_rx: int = 0
    frames_tx: int = 0
    bytes_rx: int = 0
    bytes_tx: int = 0
    crc_errors: int = 0
    framing_errors: int = 0
    oversize_errors: int = 0
    version_errors: int = 0
    seq_gaps: int = 0
    reboots: int = 0
    device_errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class LinkEvent:
    """Something the reader saw: a frame, or a decode error (``frame`` is None)."""

    time: float
    frame: p.Frame | None = None
    error: p.ProtocolError | None = None


FrameListener = Callable[[LinkEvent], None]


@dataclass
class Link:
    """An open serial link to a vigil device.

    >>> with Link.open("/dev/pts/3") as link:
    ...     print(link.request_hello().board)
    """

    port: serial.Serial
    path: str
    counters: LinkCounters = field(default_factory=LinkCounters)
    hello: p.Hello | None = None
    credit_consumed: int = 0  # cumulative sample frames the device has processed
    listeners: list[FrameListener] = field(default_factory=list)
    _tx_seq: int = 0
    _rx_seq_expected: int | None = None
    _frames: queue.Queue = field(default_factory=queue.Queue)
    _credit_changed: threading.Condition = field(default_factory=threading.Condition)
    _stop: threading.Event = field(default_factory=threading.Event)
    _reader: threading.Thread | None = None
    _reader_error: BaseException | None = None
    _write_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def open(cls, path: str, baudrate: int = 115200) -> Link:
        if not os.path.exists(path):
            raise LinkError(f"{path}: no such serial port (is the board running? `vigil board start` prints its port)")
        try:
            port = serial.Serial(path, baudrate=baudrate, timeout=0.05, exclusive=True)
        except (serial.SerialException, OSError) as exc:
            if "exclusively lock" in str(exc):
                raise LinkError(f"{path}: in use by another program (a running `vigil monitor`?)") from exc
            raise LinkError(f"{path}: cannot open serial port: {exc}") from exc
        port.reset_input_buffer()
        link = cls(port=port, path=path)
        link._reader = threading.Thread(target=link._read_loop, name=f"vigil-link-{path}", daemon=True)
        link._reader.start()
        return link

    def __enter__(self) -> Link:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._reader:
            self._reader.join(timeout=2)
        self.port.close()

    # ------------------------------------------------------------ receive side

    def _read_loop(self) -> None:
        decoder = p.StreamDecoder()
        try:
            while not self._stop.is_set():
                data = self.port.read(self.port.in_waiting or 1)
                if not data:
                    continue
                self.counters.bytes_rx += len(data)
                for item in decoder.feed(data):
                    self._on_item(item)
        except (serial.SerialException, OSError) as exc:
            if not self._stop.is_set():
                self._reader_error = exc
                self._frames.put(None)

    def _on_item(self, item: p.Frame | p.ProtocolError) -> None:
        now = time.monotonic()
        if isinstance(item, p.ProtocolError):
            key = {"crc": "crc_errors", "framing": "framing_errors", "oversize": "oversize_errors"}.get(
                item.kind, "version_errors"
            )
            setattr(self.counters, key, getattr(self.counters, key) + 1)
            self._notify(LinkEvent(now, error=item))
            return
        self.counters.frames_rx += 1
        self._track(item)
        self._notify(LinkEvent(now, frame=item))
        self._frames.put(item)

    def _track(self, frame: p.Frame) -> None:
        """Sequence gaps, reboots, credit: bookkeeping that must see every frame."""
        if frame.type == p.MsgType.HELLO:
            try:
                hello = p.Hello.unpack(frame.payload)
            except p.ProtocolError:
                hello = None
            if hello is not None:
                if self.hello is not None and hello.boot_id != self.hello.boot_id:
                    self.counters.reboots += 1
                    self._rx_seq_expected = None  # a new boot numbers its frames from 0
                    with self._credit_changed:
                        self.credit_consumed = 0
                        self._credit_changed.notify_all()
                self.hello = hello
        if self._rx_seq_expected is not None and frame.seq != self._rx_seq_expected:
            self.counters.seq_gaps += (frame.seq - self._rx_seq_expected) & 0xFFFF
        self._rx_seq_expected = (frame.seq + 1) & 0xFFFF
        if frame.type == p.MsgType.CREDIT:
            credit = p.Credit.unpack(frame.payload)
            with self._credit_changed:
                self.credit_consumed = credit.sample_frames_consumed
                self._credit_changed.notify_all()
        elif frame.type == p.MsgType.ERROR:
            self.counters.device_errors += 1

    def _notify(self, event: LinkEvent) -> None:
        for listener in self.listeners:
            listener(event)

    def recv(self, timeout: float = DEFAULT_TIMEOUT) -> p.Frame:
        """The next frame the device sent, whatever its type."""
        try:
            frame = self._frames.get(timeout=timeout)
        except queue.Empty:
            raise LinkError(f"{self.path}: no frame from the device within {timeout:g} s") from None
        if frame is None:
            raise LinkError(f"{self.path}: serial port failed: {self._reader_error}")
        return frame

    def expect(self, types: int | Iterable[int], timeout: float = DEFAULT_TIMEOUT) -> p.Frame:
        """The next frame of one of ``types``; frames of other types are skipped (they were
        already counted and shown to listeners)."""
        wanted = {types} if isinstance(types, int) else set(types)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                names = ", ".join(p.MsgType(t).name for t in wanted)
                raise LinkError(f"{self.path}: no {names} from the device within {timeout:g} s")
            frame = self.recv(left)
            if frame.type in wanted:
                return frame

    def drain(self) -> list[p.Frame]:
        """Frames received but not yet taken."""
        out = []
        while True:
            try:
                frame = self._frames.get_nowait()
            except queue.Empty:
                return out
            if frame is not None:
                out.append(frame)

    # ------------------------------------------------------------ send side

    def write_raw(self, data: bytes) -> None:
        """Bytes straight onto the wire: for fault injection."""
        with self._write_lock:
            self.port.write(data)
            self.counters.bytes_tx += len(data)

    def next_seq(self) -> int:
        return self._tx_seq

    def send(self, mtype: int, payload: bytes = b"") -> int:
        """Send one frame; returns its sequence number."""
        with self._write_lock:
            seq = self._tx_seq
            data = p.encode(p.Frame(mtype, seq, payload))
            self._tx_seq = (seq + 1) & 0xFFFF
            self.port.write(data)
            self.counters.frames_tx += 1
            self.counters.bytes_tx += len(data)
        return seq

    def skip_seq(self) -> int:
        """Use up a sequence number without a valid frame (a frame built by hand or corrupted)."""
        seq = self._tx_seq
        self._tx_seq = (seq + 1) & 0xFFFF
        return seq

    # ------------------------------------------------------------ requests

    def request_hello(self, timeout: float = DEFAULT_TIMEOUT, attempts: int = 3) -> p.Hello:
        """Ask the device to announce itself (it also does so at boot, but a pty drops
        what the device wrote before the host opened it)."""
        for attempt in range(attempts):
            self.send(p.MsgType.HELLO_REQ)
            try:
                frame = self.expect(p.MsgType.HELLO, timeout / attempts)
            except LinkError:
                if attempt == attempts - 1:
                    raise LinkError(f"{self.path}: the device did not answer HELLO_REQ within {timeout:g} s") from None
                continue
            return p.Hello.unpack(frame.payload)
        raise AssertionError("unreachable")

    def ping(self, nonce: bytes = b"vigil", timeout: float = DEFAULT_TIMEOUT) -> tuple[p.Pong, float]:
        start = time.perf_counter()
        self.send(p.MsgType.PING, nonce)
        while True:
            pong = p.Pong.unpack(self.expect(p.MsgType.PONG, timeout).payload)
            if pong.echo == nonce:
                return pong, time.perf_counter() - start

    def stats(self, timeout: float = DEFAULT_TIMEOUT) -> dict[str, int]:
        self.send(p.MsgType.STATS_REQ)
        return p.unpack_stats(self.expect(p.MsgType.STATS, timeout).payload)

    def reset(self, timeout: float = DEFAULT_TIMEOUT) -> p.Hello:
        """Reset the device and wait for the HELLO of its new boot."""
        old = self.hello.boot_id if self.hello else None
        self.send(p.MsgType.RESET)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hello = self.request_hello(timeout=max(0.5, deadline - time.monotonic()))
            if hello.boot_id != old:
                return hello
        raise LinkError(f"{self.path}: the device did not come back from reset within {timeout:g} s")

    def wait_credit(self, needed_consumed: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        """Block until the device has consumed ``needed_consumed`` sample frames in all."""
        with self._credit_changed:
            ok = self._credit_changed.wait_for(lambda: self.credit_consumed >= needed_consumed, timeout)
        if not ok:
            raise LinkError(
                f"{self.path}: no credit from the device for {timeout:g} s "
                f"(consumed {self.credit_consumed}, waiting for {needed_consumed})"
            )

    def send_samples(
        self, frames: Iterable[p.Samples], timeout: float = DEFAULT_TIMEOUT, progress: Callable[[int], None] | None = None
    ) -> int:
        """Stream sample frames under credit flow control: never more in flight than the
        device has slots (HELLO's ``sample_slots``), whatever the link's speed. Returns the
        number of frames sent."""
        hello = self.hello or self.request_hello()
        # The device counts consumed frames since its boot, across host sessions: ask it
        # where it stands rather than trusting what this session has seen so far.
        base = self.stats(timeout)["sample_frames_consumed"]
        with self._credit_changed:
            self.credit_consumed = base
        sent = 0
        for frame in frames:
            self.wait_credit(base + sent + 1 - hello.sample_slots, timeout)
            self.send(p.MsgType.SAMPLES, frame.pack())
            sent += 1
            if progress:
                progress(sent)
        self.wait_credit(base + sent, timeout)
        return sent
