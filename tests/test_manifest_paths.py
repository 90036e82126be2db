"""Manifests name their data relative to the checkout (vigil.manifest.portable_source), never by an absolute path,
so the committed models find their training data from a checkout at any place."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vigil.manifest import portable_source, resolve_source_path

ROOT = Path(__file__).resolve().parents[1]
SHARED_CSV = ROOT.parent / "shared" / "data" / "potgieter_hrv_segments.csv"
SHARED_WESAD = ROOT.parent / "shared" / "data" / "wesad_wrist_train"


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_committed_manifests_and_cards_hold_no_absolute_path() -> None:
    files = sorted((ROOT / "models").rglob("manifest.json"))
    assert len(files) >= 3
    for f in files:
        absolute = [s for s in _strings(json.loads(f.read_text())) if s.startswith("/") or s.startswith(str(ROOT))]
        assert not absolute, (f, absolute)
    for card in (ROOT / "models").rglob("MODEL_CARD.md"):
        assert str(ROOT.parent) not in card.read_text(), card


def test_portable_source_is_relative_to_the_checkout_and_resolves_back(tmp_path: Path) -> None:
    csv = tmp_path / "data" / "hrv.csv"
    source = {"kind": "hrv-csv", "path": str(csv), "layout": "potgieter", "rows": 3}
    portable = portable_source(source)
    assert portable["kind"] == "hrv-csv" and portable["rows"] == 3
    assert not os.path.isabs(portable["path"]) and "\\" not in portable["path"]
    assert resolve_source_path(portable["path"]).resolve() == csv.resolve()
    assert resolve_source_path(str(csv)) == csv  # an absolute path (older manifests) stays as it is


@pytest.mark.skipif(not SHARED_WESAD.is_dir(), reason="../shared/data/wesad_wrist_train absent")
def test_the_committed_stress_models_find_their_data_from_a_moved_checkout(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout elsewhere (VIGIL_ROOT), with the data beside it as ../shared/data: the manifest's dataset name
    resolves there, and the dataset is the one the models were trained on (WESAD's 10 training subjects, 255
    classified minutes)."""
    from vigil.manifest import source_path

    from vigil.ml.stress_io import dataset_from_manifest, read_manifest

    manifest = read_manifest(ROOT / "models" / "stress")
    moved = tmp_path / "elsewhere" / "vigil"
    (moved / "firmware").mkdir(parents=True)
    (moved / "platformio.ini").write_text("")
    (tmp_path / "elsewhere" / "shared" / "data").mkdir(parents=True)
    (tmp_path / "elsewhere" / "shared" / "data" / SHARED_WESAD.name).symlink_to(SHARED_WESAD)
    monkeypatch.setenv("VIGIL_ROOT", str(moved))
    assert manifest["data"]["dataset"] == SHARED_WESAD.name and "path" not in manifest["data"]
    found = Path(os.path.normpath(source_path(manifest["data"])))
    assert found == tmp_path / "elsewhere" / "shared" / "data" / SHARED_WESAD.name
    assert len(dataset_from_manifest(manifest)) == manifest["rows"] == 255


def test_a_path_in_the_shared_data_is_stored_as_a_dataset_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vigil.manifest import source_path

    shared = tmp_path / "shared-data"
    (shared / "ichi2014_train").mkdir(parents=True)
    monkeypatch.setenv("VIGIL_SHARED_DATA", str(shared))
    portable = portable_source({"kind": "ichi", "path": str(shared / "ichi2014_train"), "subjects": 2})
    assert portable == {"kind": "ichi", "dataset": "ichi2014_train", "subjects": 2}
    assert source_path(portable) == shared / "ichi2014_train"
    elsewhere = portable_source({"kind": "ichi", "path": str(tmp_path / "nights")})
    assert "dataset" not in elsewhere and not os.path.isabs(elsewhere["path"])
    assert source_path(elsewhere).resolve() == (tmp_path / "nights").resolve()


def test_the_committed_sleep_model_names_its_data_by_dataset() -> None:
    manifest = json.loads((ROOT / "models" / "sleep" / "manifest.json").read_text())
    assert manifest["data"]["dataset"] == "ichi2014_train" and "path" not in manifest["data"]
