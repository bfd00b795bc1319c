"""Run an iterator on a helper thread a few items ahead of its consumer (decoding ahead).

PyAV's decoding releases the GIL, so the next frames decode while the consumer works on the
current ones: motion extraction and the backbone's feature extraction both read this way.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TypeVar, cast

T = TypeVar("T")

_DONE = object()


def prefetched(items: Iterator[T], depth: int = 8) -> Generator[T, None, None]:
    """Run ``items`` on a helper thread, ``depth`` items ahead of the consumer.

    Decoding releases the GIL, so the next frames decode while this thread works on the
    current one. The generator is created, advanced and closed on the helper thread only (PyAV
    objects stay on one thread); errors are re-raised here; closing this iterator stops it.
    """
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    break
        except BaseException as exc:  # handed to the consumer
            offer(_Failure(exc))
        finally:
            if isinstance(items, Generator):
                items.close()
            offer(_DONE)

    worker = threading.Thread(target=produce, name="decode-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                break
            if isinstance(item, _Failure):
                raise item.error
            yield cast(T, item)
    finally:
        stop.set()
        worker.join()


@dataclass
class _Failure:
    error: BaseException
