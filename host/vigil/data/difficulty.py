"""How hard the built-in synthetic data is: one vocabulary for every generator and command (`vigil synth`,
`vigil train sleep|stress --data synthetic`). Each generator maps the names to its own knobs (movement overlap of
sleep stages, PPG noise and motion artifacts, how far stress moves a person's HRV) in the same order: from
"clean" (well separated, noiseless) to "hard"."""

from __future__ import annotations

DIFFICULTIES: tuple[str, ...] = ("clean", "easy", "typical", "moderate", "hard")
