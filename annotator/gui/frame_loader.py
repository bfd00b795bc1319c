"""Decode frames off the GUI thread: the latest request wins, older ones are dropped.

Frames already in the reader's cache are shown at once by the window; anything else (a seek
far into a long-GOP video can take seconds) is asked of this loader, so the window keeps
responding and the overlay of the new frame shows while its picture decodes.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from PySide6 import QtCore

from annotator.errors import AnnotatorError

if TYPE_CHECKING:
    from annotator.video.base import VideoReader

log = logging.getLogger(__name__)


class FrameLoader(QtCore.QObject):
    """One decoding thread for one reader. ``ready(index, frame)`` arrives on the GUI thread."""

    ready = QtCore.Signal(int, object)
    failed = QtCore.Signal(int, str)

    def __init__(self, reader: VideoReader, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._reader = reader
        self._cond = threading.Condition()
        self._wanted: int | None = None
        self._busy = False
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="frame-loader", daemon=True)
        self._thread.start()

    def request(self, index: int) -> None:
        with self._cond:
            self._wanted = int(index)
            self._cond.notify()

    @property
    def idle(self) -> bool:
        with self._cond:
            return self._wanted is None and not self._busy

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._wanted is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                index, self._wanted = self._wanted, None
                assert index is not None  # the wait above ends only with a request or on close
                self._busy = True
            try:
                frame = self._reader.frame(index)
            except AnnotatorError as err:
                self.failed.emit(index, str(err))
            except Exception as err:  # a decoder bug must reach the user, not end the thread
                log.exception("decoding frame %d failed", index)
                self.failed.emit(index, f"frame {index} cannot be decoded: {err}")
            else:
                self.ready.emit(index, frame)
            finally:
                with self._cond:
                    self._busy = False

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=5)
