"""Bounded, overlapped stream I/O for the frame encoder and decoder.

Owns: `ChunkSource` (reads fixed-size chunks ahead on a background thread into a small pool of
reused buffers) and `ChunkSink` (hashes and writes chunks in order on a background thread).
cryptography, `readinto` and `write` release the GIL, so on two cores reading, sealing and
writing overlap. Memory is the two pools, never the stream.

Must not: know the message format, or swallow errors: an exception on a worker thread is
re-raised in the calling thread at the next call. With `threaded=False` everything runs inline
in the caller's thread (same behaviour, no overlap).
"""

from __future__ import annotations

import mmap
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Final

Buffer = bytes | bytearray | memoryview
_Job = tuple[Buffer | None, Buffer | None, Callable[[], None] | None]

_EOF: Final = object()
_JOIN_TIMEOUT: Final = 5.0


def allocate(size: int) -> memoryview:
    """A writable buffer whose pages are committed only when touched (anonymous mmap), so a large
    frame length declared by a header costs memory only for the bytes actually read."""
    return memoryview(mmap.mmap(-1, max(size, 1)))[:size]


def fill(src: BinaryIO, view: memoryview) -> int:
    """Read into `view` until it is full or the stream ends; short reads (pipes) are fine."""
    size = len(view)
    got = 0
    readinto = getattr(src, "readinto", None)
    while got < size:
        count: int | None
        if readinto is not None:
            count = readinto(view[got:])
        else:
            data = src.read(size - got)
            count = None if data is None else len(data)
            if count:
                view[got : got + count] = data
        if count is None:  # a non-blocking source with nothing ready yet
            time.sleep(0.001)
            continue
        if count == 0:
            break
        got += count
    return got


def write_all(dst: BinaryIO, data: Buffer) -> None:
    view = memoryview(data).cast("B")
    while view:
        written: int | None = dst.write(view)
        if written is None:  # a non-blocking sink that is full
            time.sleep(0.001)
            continue
        view = view[written:]


@dataclass(slots=True)
class Chunk:
    index: int
    view: memoryview  # exactly the bytes read
    full: bool  # False only for the last chunk of the stream


class ChunkSource:
    """Chunks of `chunk_size` bytes from `src`, in order; `next()` is None at end of stream.

    Every chunk returned must be given back with `release` so its buffer can be refilled.
    """

    def __init__(
        self, src: BinaryIO, chunk_size: int, *, depth: int = 3, threaded: bool = True
    ) -> None:
        self._src = src
        self._size = chunk_size
        self._buffers = [allocate(chunk_size) for _ in range(depth)]
        self._free: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        for index in range(depth):
            self._free.put(index)
        self._ready: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._done = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="kmscli-reader", daemon=True)
            self._thread.start()

    def _read_one(self, index: int) -> Chunk | None:
        view = self._buffers[index]
        count = fill(self._src, view)
        if count == 0:
            self._free.put(index)
            return None
        return Chunk(index, view[:count], count == self._size)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                index = self._free.get()
                if index is None or self._stop.is_set():
                    return
                chunk = self._read_one(index)
                if chunk is None:
                    self._ready.put(_EOF)
                    return
                self._ready.put(chunk)
                if not chunk.full:
                    self._ready.put(_EOF)
                    return
        except BaseException as error:  # re-raised in the consumer's thread
            self._ready.put(error)

    def next(self) -> Chunk | None:
        if self._done:
            return None
        if self._thread is None:
            index = self._free.get()
            if index is None:
                raise RuntimeError("ChunkSource.next() after close()")
            chunk = self._read_one(index)
            if chunk is None or not chunk.full:
                self._done = True
            return chunk
        item = self._ready.get()
        if item is _EOF:
            self._done = True
            return None
        if isinstance(item, BaseException):
            self._done = True
            raise item
        if not isinstance(item, Chunk):
            raise TypeError(f"unexpected reader item {item!r}")
        return item

    def release(self, chunk: Chunk) -> None:
        self._free.put(chunk.index)

    def close(self) -> None:
        """Stop reading ahead. Safe to call more than once and after errors."""
        self._stop.set()
        self._free.put(None)
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT)  # a reader blocked on a silent pipe is a daemon


class ChunkSink:
    """Writes (and optionally hashes) buffers to `dst` in submission order.

    `submit(data, hashed, done)`: hash `hashed`, then write `data`, then call `done()` (which
    typically returns a buffer to its pool). `flush()` waits for everything submitted so far.
    """

    def __init__(
        self,
        dst: BinaryIO,
        *,
        hasher: Callable[[Buffer], None] | None = None,
        threaded: bool = True,
    ) -> None:
        self._dst = dst
        self._hasher = hasher
        self._error: BaseException | None = None
        self._aborted = False
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="kmscli-writer", daemon=True)
            self._thread.start()

    def _do(self, data: Buffer | None, hashed: Buffer | None) -> None:
        if hashed is not None and self._hasher is not None:
            self._hasher(hashed)
        if data is not None and len(data):
            write_all(self._dst, data)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                data, hashed, done = job
                try:
                    if self._error is None and not self._aborted:
                        self._do(data, hashed)
                except BaseException as error:  # re-raised in the producer's thread
                    self._error = error
                finally:
                    if done is not None:
                        done()
            finally:
                self._jobs.task_done()

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            self._aborted = True
            raise error

    def submit(
        self,
        data: Buffer | None,
        hashed: Buffer | None = None,
        done: Callable[[], None] | None = None,
    ) -> None:
        self._raise_pending()
        if self._thread is None:
            try:
                self._do(data, hashed)
            finally:
                if done is not None:
                    done()
            return
        self._jobs.put((data, hashed, done))

    def flush(self) -> None:
        if self._thread is not None:
            self._jobs.join()
        self._raise_pending()

    def close(self) -> None:
        """Finish every write, stop the thread, and raise any write error."""
        self.flush()
        self._stop_thread()

    def abort(self) -> None:
        """Drop pending writes (their `done` callbacks still run) and stop the thread."""
        self._aborted = True
        self._stop_thread()

    def _stop_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(_JOIN_TIMEOUT)
