"""What a night's sleep labels are, and so what the page may call them. Only polysomnography scored by a sleep
lab is "PSG": the Walch (PhysioNet sleep-accel) and ICHI-2014 converters' labels. A synthetic night's labels are
the stages its generator drew (``vigil.data.synthetic_night``): "synthetic stages", "the generator's". Labels of
any other origin are "reference labels".

    words = label_words(rec)          # from rec.meta["source"]["kind"]
    words.short                       # "PSG" | "synthetic stages" | "labels"  (axis labels, table columns)
    words.noun                        # "PSG labels" | "synthetic stages (the generator's)" | "reference labels"
    words.whose                       # "the PSG's" | "the generator's" | "the labels'"
"""

from __future__ import annotations

from dataclasses import dataclass

from vigil.data.recording import Recording

#: Recording source kinds whose sleep labels are a sleep lab's polysomnography scoring.
PSG_SOURCE_KINDS = ("walch", "ichi")
SYNTHETIC_SOURCE_KIND = "synthetic"


@dataclass(frozen=True)
class LabelWords:
    kind: str  # "psg", "synthetic" or "other"
    short: str  # axis labels, table column headers
    noun: str  # in sentences: "the spectrogram with {noun}"
    whose: str  # possessive: "the predicted stage equals {whose}"
    strip: str  # the label strip's y label under the spectrogram (short: the axis is narrow)

    @property
    def is_psg(self) -> bool:
        return self.kind == "psg"


PSG = LabelWords("psg", "PSG", "PSG labels", "the PSG's", "PSG")
SYNTHETIC = LabelWords("synthetic", "synthetic stages", "synthetic stages (the generator's)", "the generator's",
                       "synthetic\nstages")  # fmt: skip
OTHER = LabelWords("other", "labels", "reference labels", "the labels'", "labels")


def words_for_kind(kind: str | None) -> LabelWords:
    """The words for labels of a recording whose ``meta["source"]["kind"]`` is ``kind``."""
    if kind in PSG_SOURCE_KINDS:
        return PSG
    if kind == SYNTHETIC_SOURCE_KIND:
        return SYNTHETIC
    return OTHER


def label_words(rec: Recording) -> LabelWords:
    """The words for ``rec``'s sleep labels, from the source its converter or generator recorded."""
    source = rec.meta.get("source")
    return words_for_kind(source.get("kind") if isinstance(source, dict) else None)
