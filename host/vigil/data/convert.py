"""`vigil convert`: a Walch PhysioNet folder, an Empatica E4 / WESAD wrist folder, an ICHI-2014
night (``pNNN.npy``) or a plain CSV -> one ``.vrec`` recording at the device's rates (see docs/recording.md).

The lead registers the command with ``cli.add_command(convert)``; it also runs on its own
(VigilError becomes click's one-line ``Error: ...`` and exit status 1 either way).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from vigil.data.csv_source import ACCEL_UNIT_CHOICES, is_number, load_csv
from vigil.data.empatica import ACC_FILE, BVP_FILE, load_empatica
from vigil.data.ichi import find_ichi_night, ichi_nights, is_ichi_file, load_ichi
from vigil.data.recording import ConversionWarning, Recording
from vigil.data.walch import MOTION_DIR, MOTION_SUFFIX, load_walch
from vigil.dsp.config import PPG_RATES_HZ
from vigil.errors import VigilError

FORMATS = ("walch", "empatica", "ichi", "csv")


def detect_format(src: str | Path) -> str:
    """walch: a folder with ``motion/`` (or ``*_acceleration.txt`` files), or a ``.txt`` file
    of four numeric columns; empatica: a folder with ACC.csv / BVP.csv (or one ``*_E4_Data``
    folder holding them); ichi: a ``.npy`` structured array with the ICHI-2014 fields, or a folder
    holding ``p*.npy`` nights; csv: a file whose first line is a header."""
    src = Path(src)
    if src.is_dir():
        if (src / MOTION_DIR).is_dir() or any(src.glob(f"*{MOTION_SUFFIX}")):
            return "walch"
        if (
            (src / ACC_FILE).is_file()
            or (src / BVP_FILE).is_file()
            or any(src.glob(f"*_E4_Data/{BVP_FILE}"))
            or any(src.glob(f"*_E4_Data/{ACC_FILE}"))
        ):
            return "empatica"
        if ichi_nights(src):
            return "ichi"
        raise VigilError(
            f"{src}: cannot tell the format (no {MOTION_DIR}/ folder, no {ACC_FILE} or {BVP_FILE}, no p*.npy "
            "nights); use --from"
        )
    if not src.is_file():
        raise VigilError(f"{src}: no such file or folder")
    if src.name in (ACC_FILE, BVP_FILE):
        return "empatica"
    if src.name.endswith(MOTION_SUFFIX):
        return "walch"
    if is_ichi_file(src):
        return "ichi"
    first = _first_line(src)
    fields = first.split()
    if src.suffix.lower() == ".txt" and len(fields) == 4 and all(is_number(f) for f in fields):
        return "walch"
    if first and not all(is_number(f) for f in first.replace(",", " ").replace(";", " ").split()):
        return "csv"
    raise VigilError(f"{src}: cannot tell the format (first line {first[:60]!r}); use --from walch|empatica|ichi|csv")


def _first_line(path: Path) -> str:
    with open(path, "rb") as f:
        for raw in f:
            text = raw.decode("utf-8", errors="replace").strip().removeprefix("\ufeff")
            if text:
                return text
            if f.tell() > 1 << 16:
                break
    return ""


def convert_source(
    src: str | Path,
    *,
    kind: str | None = None,
    subject: str | None = None,
    start_s: float | None = None,
    duration_s: float | None = None,
    ppg_rate_hz: int | None = None,
    rate_hz: float | None = None,
    accel_units: str | None = None,
    counts_per_g: float | None = None,
    ppg_counts_per_unit: float | None = None,
) -> Recording:
    """Load ``src`` as ``kind`` (detected when None) and cut the excerpt, if one is asked for."""
    src = Path(src)
    kind = kind or detect_format(src)
    if kind not in FORMATS:
        raise VigilError(f"unknown source format {kind!r}; expected one of {', '.join(FORMATS)}")
    _refuse_options(
        kind,
        subject=subject,
        rate_hz=rate_hz,
        accel_units=accel_units,
        counts_per_g=counts_per_g,
        ppg_counts_per_unit=ppg_counts_per_unit,
        ppg_rate_hz=ppg_rate_hz,
    )
    if ppg_rate_hz is not None and ppg_rate_hz not in PPG_RATES_HZ:
        raise VigilError(f"--ppg-rate {ppg_rate_hz}; the device supports {', '.join(map(str, PPG_RATES_HZ))} Hz")
    if kind == "walch":
        rec = load_walch(src, subject=subject)
    elif kind == "ichi":
        rec = load_ichi(find_ichi_night(src, subject))
    elif kind == "empatica":
        rec = load_empatica(src.parent if src.is_file() else src, ppg_rate_hz=ppg_rate_hz)
    else:
        if not src.is_file():
            raise VigilError(f"{src}: a CSV source must be a file")
        rec = load_csv(
            src,
            rate_hz=rate_hz,
            accel_units=accel_units or "milli-g",
            counts_per_g=counts_per_g,
            ppg_rate_hz=ppg_rate_hz,
            ppg_counts_per_unit=ppg_counts_per_unit or 1.0,
        )
    if start_s or duration_s is not None:
        rec = rec.excerpt(start_s or 0.0, duration_s)
    return rec


_OPTION_KINDS = {
    "subject": ("--subject", ("walch", "ichi")),
    "rate_hz": ("--rate", ("csv",)),
    "accel_units": ("--accel-units", ("csv",)),
    "counts_per_g": ("--counts-per-g", ("csv",)),
    "ppg_counts_per_unit": ("--ppg-scale", ("csv",)),
    "ppg_rate_hz": ("--ppg-rate", ("csv", "empatica")),
}


def _refuse_options(kind: str, **given: Any) -> None:
    for key, value in given.items():
        flag, kinds = _OPTION_KINDS[key]
        if value is not None and kind not in kinds:
            raise VigilError(f"{flag} does not apply to {kind} sources (only to {', '.join(kinds)})")


def conversion_report(rec: Recording, out: Path, kind: str) -> dict[str, Any]:
    conv = rec.meta.get("conversion", {})
    return {
        "out": str(out),
        "format": kind,
        "subject": rec.meta.get("source", {}).get("subject"),
        **rec.summary(),
        "clipped": {ch: conv[ch].get("clipped", 0) for ch in ("accel", "ppg") if isinstance(conv.get(ch), dict)},
        "warnings": list(rec.meta.get("warnings", [])),
        "notes": rec.meta.get("notes", ""),
    }


def convert_file(src: Path, out: Path, kind: str | None = None, **options: Any) -> tuple[Recording, dict[str, Any]]:
    """`vigil convert`: convert_source(src, kind=..., **options) saved as ``out``; returns the recording and its
    conversion_report. Conversion warnings are not shown (they are in the recording's meta and the report); a file
    that cannot be read or written is a VigilError naming it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConversionWarning)  # listed in meta and printed by the command
            resolved = kind or detect_format(src)
            rec = convert_source(src, kind=resolved, **options)
        if not out.parent.is_dir():
            raise VigilError(f"{out.parent}: no such folder for --out")
        rec.save(out)
    except OSError as exc:
        raise VigilError(f"{exc.filename or out}: {exc.strerror or exc}") from None
    return rec, conversion_report(rec, out, resolved)


def synthesize(out: Path, seconds: float = 600.0, seed: int = 1, ppg_rate_hz: int | None = 64, stress: float = 0.0,
               difficulty: str = "typical", activity: str = "resting", night_hours: float | None = None
               ) -> dict[str, Any]:
    """`vigil synth`: a built-in synthetic recording saved as ``out`` (no PPG when ``ppg_rate_hz`` is None): a
    labelled night of ``night_hours`` when given, else ``seconds`` of a resting wrist (vigil.data.synthetic) or of
    an awake person seated or walking (vigil.data.synthetic_day). Returns what was written: out, seconds, the PPG
    rate and, for a night, the number of epochs of each sleep class (else None)."""
    if night_hours is not None:
        from vigil.data.synthetic_night import synthetic_night
        from vigil.records import SLEEP_CLASS_LABELS

        rec = synthetic_night(night_hours, seed=seed, difficulty=difficulty, ppg_rate_hz=ppg_rate_hz)
        rec.save(out)
        epochs = {name: int((rec.sleep_labels == k).sum()) for k, name in enumerate(SLEEP_CLASS_LABELS)}
        return {"out": out, "seconds": rec.accel_seconds, "ppg_rate_hz": ppg_rate_hz, "epochs": epochs}
    if activity == "resting":
        from vigil.data.synthetic import synthetic_session

        rec = synthetic_session(seconds, seed, ppg_rate_hz, stress, difficulty)
    else:
        from vigil.data.synthetic_day import synthetic_day

        rec = synthetic_day(seconds, seed, activity, stress=stress, ppg_rate_hz=ppg_rate_hz, difficulty=difficulty)
    rec.save(out)
    return {"out": out, "seconds": seconds, "ppg_rate_hz": ppg_rate_hz, "epochs": None}


@click.command("convert")
@click.argument("src", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Recording to write (.vrec)."
)
@click.option("--from", "kind", type=click.Choice(FORMATS), default=None, help="Source format (default: detected).")
@click.option("--subject", default=None,
              help="Walch: the subject id; ICHI: the night (p002, p08a); when the folder holds several.")
@click.option("--start", "start_s", type=float, default=None, help="Keep from this second on (default 0).")
@click.option(
    "--duration", "duration_s", type=float, default=None, help="Keep this many seconds (default: to the end)."
)
@click.option(
    "--ppg-rate",
    "ppg_rate_hz",
    type=click.Choice([str(r) for r in PPG_RATES_HZ]),
    default=None,
    help="PPG rate to resample to (default: the source's if supported, else the nearest).",
)
@click.option(
    "--rate", "rate_hz", type=float, default=None, help="CSV: sampling rate in Hz (needed without a time column)."
)
@click.option(
    "--accel-units",
    type=click.Choice(ACCEL_UNIT_CHOICES),
    default=None,
    help="CSV: units of x, y, z (default milli-g).",
)
@click.option("--counts-per-g", type=float, default=None, help="CSV: sensor counts per g, with --accel-units counts.")
@click.option(
    "--ppg-scale",
    "ppg_counts_per_unit",
    type=float,
    default=None,
    help="CSV: multiply the ppg column by this to get ADC counts (default 1).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def convert(
    src: Path,
    out: Path,
    kind: str | None,
    subject: str | None,
    start_s: float | None,
    duration_s: float | None,
    ppg_rate_hz: str | None,
    rate_hz: float | None,
    accel_units: str | None,
    counts_per_g: float | None,
    ppg_counts_per_unit: float | None,
    as_json: bool,
) -> None:
    """Convert SRC (a Walch PhysioNet folder or file, an Empatica E4 / WESAD wrist folder, an
    ICHI-2014 night file or folder, or a CSV with a header) into a recording at the device's
    rates: accelerometer 50 Hz milli-g, PPG 64/100/128 Hz counts.

    \b
      vigil convert sleep-accel/ --subject 46343 --out night.vrec
      vigil convert ichi2014/p002.npy --out p002.vrec      (100 Hz counts, calibrated from gravity)
      vigil convert S2/S2_E4_Data --out stress.vrec --ppg-rate 128
      vigil convert walk.csv --accel-units g --out walk.vrec
    """
    from vigil.console import print_conversion

    try:
        rec, report = convert_file(
            src,
            out,
            kind,
            subject=subject,
            start_s=start_s,
            duration_s=duration_s,
            ppg_rate_hz=int(ppg_rate_hz) if ppg_rate_hz else None,
            rate_hz=rate_hz,
            accel_units=accel_units,
            counts_per_g=counts_per_g,
            ppg_counts_per_unit=ppg_counts_per_unit,
        )
    except VigilError as exc:
        raise click.ClickException(str(exc)) from None
    print_conversion(report, rec, as_json)
