"""Generated files are committed; they must be exactly what the generators make now."""

from __future__ import annotations

import pytest

from vigil.device import protocol_codegen


@pytest.mark.parametrize("path,text", list(protocol_codegen.generated_files().items()), ids=lambda x: str(x)[-40:])
def test_committed_file_matches_generator(path, text) -> None:
    assert path.exists(), f"{path} missing: run python -m vigil.device.protocol_codegen"
    assert path.read_text() == text, f"{path} is stale or edited by hand: run python -m vigil.device.protocol_codegen"
