"""Writes ``firmware/core/dsp/dsp_config.h`` from ``vigil.dsp.config``.

    python -m vigil.dsp.codegen [--check]
"""

from __future__ import annotations

import sys
from pathlib import Path

from vigil.codegen import BANNER, repo_root, write_or_check
from vigil.dsp import config as c


def config_header() -> str:
    lines = [BANNER.format(module="vigil.dsp.codegen", source="host/vigil/dsp/config.py")]
    lines += ["#ifndef VIGIL_DSP_CONFIG_H", "#define VIGIL_DSP_CONFIG_H", ""]
    for name in ("ACCEL_RATE_HZ", "STFT_N", "STFT_HOP", "STFT_BINS", "EPOCH_S", "EPOCH_SAMPLES", "IMAGE_FRAMES", "SEGMENT_S"):
        lines.append(f"#define DSP_{name} {getattr(c, name)}u")
    lines.append(f"#define DSP_IMAGE_ZERO_POINT ({c.IMAGE_ZERO_POINT})")
    lines.append(f"/* IMAGE_SCALE_DB = {c.IMAGE_SCALE_DB} dB per int8 step */")
    lines.append(f"#define DSP_IMAGE_DELAY_EPOCHS {c.IMAGE_DELAY_EPOCHS}u /* epoch t's image completes by the end of "
                 "epoch t + this */")
    lines.append("/* per-epoch features and the sleep context (vigil.dsp.epoch_features) */")
    for name in ("POSTURE_WINDOW_SAMPLES", "POSTURE_WINDOWS", "DIRECTION_ONE", "STILL_CHANGE_Q12",
                 "LOG_CODE_PER_OCTAVE", "FEATURE_CODE_MAX", "EPOCH_FEATURES", "SLEEP_CONTEXT_EPOCHS",
                 "SLEEP_CONTEXT_DELAY", "SLEEP_CONTEXT_INPUT", "ELAPSED_SHIFT",
                 "ACTIVITY_DEADBAND_MG"):
        lines.append(f"#define DSP_{name} {getattr(c, name)}u")
    lines.append(f"#define DSP_FEATURE_ZERO_POINT ({c.FEATURE_ZERO_POINT})")
    lines.append(f"#define DSP_PPG_RATE_COUNT {len(c.PPG_RATES_HZ)}u")
    lines.append("#define DSP_PPG_RATES_HZ {" + ", ".join(f"{r}u" for r in c.PPG_RATES_HZ) + "}")
    lines.append(f"#define DSP_PPG_RATE_MAX_HZ {max(c.PPG_RATES_HZ)}u")
    lines += ["", "#endif /* VIGIL_DSP_CONFIG_H */", ""]
    return "\n".join(lines)


def generated_files() -> dict[Path, str]:
    return {repo_root() / "firmware/core/dsp/dsp_config.h": config_header()}


if __name__ == "__main__":
    sys.exit(write_or_check(generated_files(), sys.argv[1:]))
