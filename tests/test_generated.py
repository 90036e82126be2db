"""Generated files are committed; they must be exactly what the generators make now."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

# Every module that writes committed files: each has generated_files() -> {path: text}.
GENERATORS = [
    "vigil.device.protocol_codegen",
    "vigil.dsp.codegen",
    "vigil.dsp.stft_tables",
    "vigil.dsp.ppg_tables",
    "vigil.export.ml_exp_table",
]

FILES = [(path, text) for name in GENERATORS for path, text in importlib.import_module(name).generated_files().items()]


@pytest.mark.parametrize("path,text", FILES, ids=lambda x: str(x)[-40:] if isinstance(x, Path) else "")
def test_committed_file_matches_generator(path: Path, text: str) -> None:
    assert path.exists(), f"{path} missing: run the generator named in its first line"
    assert path.read_text() == text, f"{path} is stale or edited by hand: run the generator named in its first line"
