"""Errors a user can act on. The CLI prints them as one line, without a traceback."""


class VigilError(Exception):
    """Base class: the message says what went wrong and what to do."""


class LinkError(VigilError):
    """The serial link failed: no such port, no answer, the device broke the protocol."""


class BoardError(VigilError):
    """A board could not be built, started, found or stopped."""


class RecordingFormatError(VigilError):
    """A recording or a source file for `vigil convert` is malformed. For text sources the
    message starts with ``FILE:LINE:`` and says what was expected there."""
