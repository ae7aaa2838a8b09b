"""In-process queue for `pier up`: coalesces ids already waiting, so a burst costs one pass."""

import threading
from collections import OrderedDict


class MemoryQueue:
    def __init__(self) -> None:
        self._waiting: OrderedDict[str, None] = OrderedDict()
        self._ready = threading.Condition()

    def enqueue(self, loadbalancer_id: str) -> None:
        with self._ready:
            self._waiting[loadbalancer_id] = None
            self._ready.notify()

    def get(self, timeout: float) -> str | None:
        with self._ready:
            if not self._waiting and not self._ready.wait_for(lambda: bool(self._waiting), timeout):
                return None
            loadbalancer_id, _ = self._waiting.popitem(last=False)
            return loadbalancer_id

    def __len__(self) -> int:
        with self._ready:
            return len(self._waiting)
