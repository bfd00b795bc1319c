"""User-facing error types.

Every error a user can cause (bad file, bad argument, missing path) is an ``AnnotatorError``
whose message is one readable sentence. The command line prints it on one line and exits
non-zero; the GUI shows it in a dialog. Anything else is a bug.
"""

from __future__ import annotations


class AnnotatorError(Exception):
    """An error caused by input the user can fix; ``str(err)`` is the message to show."""


class VideoError(AnnotatorError):
    """A video cannot be opened or decoded."""


class ProjectError(AnnotatorError):
    """A project file is missing, malformed, from an unknown version or otherwise unusable."""


class FormatError(AnnotatorError):
    """A label file cannot be read or written in the requested format."""


class SkeletonError(AnnotatorError):
    """A skeleton template is invalid."""


class UsageError(AnnotatorError):
    """A command-line argument is malformed (e.g. a key frame list)."""
