"""Every reader against mutated real samples (issue 15, item 1): Walch, E4/WESAD (the E4 files and the protocol's
``S<n>_quest.csv``), ICHI, plain CSV and HRV CSV files
cut from ../shared/data, then changed by hypothesis one way at a time (a field replaced by a number out of range, a
word, nothing; a line dropped, doubled, swapped or added; the file cut short; for ICHI's arrays a value or a row
changed, or the file's bytes). Whatever the change, the reader returns a valid recording or raises one line naming
what was wrong: never another exception, never a hang (each example has SECONDS_PER_EXAMPLE). Changes that do not
change the data (blank lines at the end, spaces at line ends, CRLF line ends) give exactly the clean recording. VIGIL_MUTATION_EXAMPLES=N runs N examples per format instead of 50
(a deeper search than the suite's; 3,000 per format found nothing on 2026-12-04)."""

from __future__ import annotations

import shutil
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SHARED_DATA
from vigil.data.convert import convert_source
from vigil.data.hrv_csv import load_hrv_csv
from vigil.data.recording import Recording
from vigil.data.wesad import read_quest
from vigil.errors import VigilError

SECONDS_PER_EXAMPLE = 30
EXAMPLES = int(__import__("os").environ.get("VIGIL_MUTATION_EXAMPLES", "50"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip

pytestmark = [pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="needs ../shared/data (the real samples)"),
              pytest.mark.filterwarnings("ignore::vigil.data.recording.ConversionWarning")]  # what a reader warns of

#: What a field becomes: numbers out of any sane range, words, nothing.
TOKENS = ["", " ", "nan", "inf", "-inf", "1e30", "-1e30", "1e9", "-1e9", "0", "-1", "0.001", "1e-30", "abc", "1,2",
          "0x10", "9" * 40, "1.5.2", "+", "--1", "\x00"]  # fmt: skip


class Hang(Exception):
    pass


@contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    def alarm(_signum: int, _frame: Any) -> None:
        raise Hang(f"the reader took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def outcome(read: Callable[[], Any]) -> Any:
    """The reader's result, or None when it refused in one line; anything else fails the test."""
    with time_limit(SECONDS_PER_EXAMPLE):
        try:
            result = read()
        except VigilError as exc:
            message = str(exc)
            assert message and "\n" not in message.strip(), f"an error of more than one line: {message!r}"
            assert "Traceback" not in message
            return None
    if isinstance(result, Recording):
        result.validate("mutated")  # an accepted recording is a valid one
    return result


# ---------------------------------------------------------------- the clean samples


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clean")
    walch = root / "walch.txt"
    walch.write_text("".join((SHARED_DATA / "46343_acceleration_snippet.txt").read_text().splitlines(True)[:1500]))
    e4 = root / "e4"
    e4.mkdir()
    for name, lines in (("ACC.csv", 700), ("BVP.csv", 1400)):  # about 20 s of each
        text = (SHARED_DATA / "empatica_e4_sample" / name).read_text().splitlines(True)[:lines]
        (e4 / name).write_text("".join(text))
    acc = np.loadtxt(e4 / "ACC.csv", delimiter=",", skiprows=2)[:600] * 15.625  # 1/64 g -> milli-g
    csv = root / "session.csv"
    csv.write_text("t,x,y,z\n" + "".join(f"{i / 32:.5f},{x:.2f},{y:.2f},{z:.2f}\n" for i, (x, y, z) in enumerate(acc)))
    ichi = root / "p002.npy"
    np.save(ichi, np.load(SHARED_DATA / "ichi2014_train" / "p002.npy")[:3000])
    hrv = root / "hrv.csv"
    hrv.write_text("".join((SHARED_DATA / "potgieter_hrv_segments.csv").read_text().splitlines(True)[:80]))
    quest = root / "S2_quest.csv"
    shutil.copy(SHARED_DATA / "wesad_wrist_train" / "S2" / "S2_quest.csv", quest)
    return {"walch": walch, "empatica": e4 / "BVP.csv", "csv": csv, "ichi": ichi, "hrv": hrv, "quest": quest}


READERS: dict[str, Callable[[Path], Any]] = {
    "walch": lambda path: convert_source(path, kind="walch"),
    "empatica": lambda path: convert_source(path.parent, kind="empatica"),
    "csv": lambda path: convert_source(path, kind="csv", rate_hz=32),
    "hrv": lambda path: load_hrv_csv(path),
    "quest": lambda path: read_quest(path),
}


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Recording):
        return (np.array_equal(a.accel, b.accel) and np.array_equal(a.ppg, b.ppg)
                and a.ppg_rate_hz == b.ppg_rate_hz)  # fmt: skip
    if isinstance(a, list):  # WESAD's protocol: the conditions
        return a == b
    return np.array_equal(a.features, b.features) and np.array_equal(a.labels, b.labels)


@pytest.fixture(scope="module")
def clean(samples: dict[str, Path]) -> dict[str, Any]:
    out = {name: READERS[name](samples[name]) for name in READERS}
    assert all(r is not None for r in out.values())
    return out


def copy_sample(samples: dict[str, Path], fmt: str, tmp_path: Path, name: str) -> Path:
    """A fresh copy of one format's sample (E4: the whole folder) to mutate."""
    src = samples[fmt]
    dest = tmp_path / name
    if dest.exists():
        shutil.rmtree(dest)
    if fmt == "empatica":
        shutil.copytree(src.parent, dest)
        return dest / src.name
    dest.mkdir()
    shutil.copy(src, dest / src.name)
    return dest / src.name


# ---------------------------------------------------------------- text mutations


@st.composite
def text_mutation(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines(True)
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["field", "field", "field", "drop", "double", "swap", "insert", "cut", "end"]))
    token = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6)))
    if kind == "field":
        sep = next((c for c in ";," if c in lines[i]), " ")
        fields = lines[i].rstrip("\r\n").split(sep)
        fields[draw(st.integers(0, len(fields) - 1))] = token
        lines[i] = sep.join(fields) + "\n"
    elif kind == "drop":
        del lines[i]
    elif kind == "double":
        lines.insert(i, lines[i])
    elif kind == "swap":
        j = draw(st.integers(0, len(lines) - 1))
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "insert":
        lines.insert(i, token + "\n")
    elif kind == "cut":
        return "".join(lines)[: draw(st.integers(0, len(text)))]
    else:
        lines.append(token)
    return "".join(lines)


HARMLESS: dict[str, Callable[[str], str]] = {
    "blank lines at the end": lambda text: text + "\n\n",
    "spaces at line ends": lambda text: "".join(line.rstrip("\n") + "  \n" for line in text.splitlines(True)),
    "CRLF line ends": lambda text: text.replace("\n", "\r\n"),
}


@pytest.mark.parametrize("fmt", ["walch", "empatica", "csv", "hrv", "quest"])
def test_a_mutated_text_file_is_read_or_refused_in_one_line(fmt: str, samples: dict[str, Path], tmp_path: Path) -> None:
    text = samples[fmt].read_text()
    seen: list[bool] = []

    @SETTINGS
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        path = copy_sample(samples, fmt, tmp_path, "mutated")
        path.write_text(data.draw(text_mutation(text)), newline="")
        seen.append(outcome(lambda: READERS[fmt](path)) is not None)

    check()
    assert any(seen) and not all(seen), f"{fmt}: {sum(seen)} of {len(seen)} accepted: the mutations test one side only"


@pytest.mark.parametrize("fmt", ["walch", "empatica", "csv", "hrv", "quest"])
@pytest.mark.parametrize("change", sorted(HARMLESS))
def test_a_harmless_change_gives_the_clean_data(fmt: str, change: str, samples: dict[str, Path],
                                                clean: dict[str, Any], tmp_path: Path) -> None:  # fmt: skip
    path = copy_sample(samples, fmt, tmp_path, "harmless")
    path.write_text(HARMLESS[change](samples[fmt].read_text()), newline="")
    got = outcome(lambda: READERS[fmt](path))
    assert got is not None, f"{fmt}: {change} was refused"
    assert same(got, clean[fmt]), f"{fmt}: {change} changed the data"


# ---------------------------------------------------------------- ICHI arrays

ICHI_VALUES = [0, 1, -1, 7, 255, 256, 1e9, -1e9, 1e30, np.nan, np.inf, -np.inf, 0.5, 65535, 2**31]


@SETTINGS
@given(data=st.data())
def test_a_mutated_ichi_night_is_read_or_refused_in_one_line(data: st.DataObject, samples: dict[str, Path],
                                                              tmp_path: Path) -> None:  # fmt: skip
    arr = np.load(samples["ichi"])
    path = copy_sample(samples, "ichi", tmp_path, "mutated")
    kind = data.draw(st.sampled_from(["value", "value", "rows", "reverse", "bytes", "dtype"]))
    if kind == "value":
        field = data.draw(st.sampled_from(list(arr.dtype.names)))
        row = data.draw(st.integers(0, len(arr) - 1))
        value = data.draw(st.sampled_from(ICHI_VALUES))
        try:
            arr[field][row] = value
        except (OverflowError, ValueError):
            arr[field][row] = np.iinfo(arr.dtype[field]).max if arr.dtype[field].kind in "iu" else value
        np.save(path, arr)
    elif kind == "rows":
        start = data.draw(st.integers(0, len(arr)))
        np.save(path, arr[start : start + data.draw(st.integers(0, len(arr)))])
    elif kind == "reverse":
        np.save(path, arr[::-1])
    elif kind == "dtype":
        np.save(path, np.zeros(len(arr), dtype=[(name, "<f8") for name in arr.dtype.names[:-1]]))
    else:
        raw = bytearray(path.read_bytes())
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
        path.write_bytes(bytes(raw[: data.draw(st.integers(i, len(raw)))]))
    outcome(lambda: convert_source(path, kind="ichi"))
