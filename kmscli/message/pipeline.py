"""Bounded, overlapped stream I/O for the frame encoder and decoder.

Owns: `ChunkSource` (reads fixed-size chunks ahead on a background thread into a small pool of
reused buffers) and `ChunkSink` (hashes, for signed suites, and writes chunks in order, each on
its own background thread). AES-GCM, SHA-384, `readinto` and `write` all release the GIL
(measured with cryptography 50), so on two cores reading, sealing, hashing and writing overlap
while the caller's thread only seals or opens. Memory is the pools, never the stream.

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
from typing import BinaryIO, Final

Buffer = bytes | bytearray | memoryview
# (data to write, data to hash, called once hashed, called once written)
_Job = tuple[Buffer | None, Buffer | None, Callable[[], None] | None, Callable[[], None] | None]

_EOF: Final = object()
# Workers normally finish at once. One blocked in I/O on a stalled pipe (after an error
# elsewhere) is a daemon: wait this long for it, then leave it behind rather than hang the caller.
_JOIN_TIMEOUT: Final = 0.5


def allocate(size: int) -> memoryview:
    """A writable buffer whose pages are committed only when touched (anonymous mmap), so a large
    frame length declared by a header costs memory only for the bytes actually used."""
    return memoryview(mmap.mmap(-1, max(size, 1)))[:size]


class BufferPool:
    """`depth` reusable buffers of `size` bytes, allocated on first use; `take` blocks until one
    is free. Thread-safe: buffers are taken in one thread and given back from another."""

    def __init__(self, size: int, depth: int) -> None:
        self._size = size
        self._buffers: list[memoryview | None] = [None] * depth
        self._free: queue.SimpleQueue[int | None] = queue.SimpleQueue()
        for index in range(depth):
            self._free.put(index)

    def take(self) -> tuple[int, memoryview] | None:
        """(index, buffer), or None once `close` was called."""
        index = self._free.get()
        if index is None:
            self._free.put(None)  # wake every other waiter too
            return None
        buffer = self._buffers[index]
        if buffer is None:
            buffer = self._buffers[index] = allocate(self._size)
        return index, buffer

    def give(self, index: int) -> None:
        self._free.put(index)

    def giver(self, index: int) -> Callable[[], None]:
        return lambda: self._free.put(index)

    def close(self) -> None:
        self._free.put(None)


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


class Chunk:
    """One buffer of the pool (`index`) holding `view`, exactly the bytes read; `full` is False
    only for the last chunk of the stream."""

    __slots__ = ("full", "index", "view")

    def __init__(self, index: int, view: memoryview, full: bool) -> None:
        self.index = index
        self.view = view
        self.full = full


class ChunkSource:
    """Chunks of `chunk_size` bytes from `src`, in order; `next()` is None at end of stream.

    Every chunk returned must be given back with `release` so its buffer can be refilled.
    """

    def __init__(
        self, src: BinaryIO, chunk_size: int, *, depth: int = 3, threaded: bool = True
    ) -> None:
        self._src = src
        self._size = chunk_size
        self._pool = BufferPool(chunk_size, depth)
        self._ready: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._done = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(target=self._run, name="kmscli-reader", daemon=True)
            self._thread.start()

    def _read_one(self) -> Chunk | None:
        taken = self._pool.take()
        if taken is None:
            raise RuntimeError("ChunkSource read after close()")
        index, view = taken
        count = fill(self._src, view)
        if count == 0:
            self._pool.give(index)
            return None
        return Chunk(index, view[:count], count == self._size)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._read_one()
                if self._stop.is_set():
                    return
                if chunk is None:
                    self._ready.put(_EOF)
                    return
                self._ready.put(chunk)
                if not chunk.full:
                    self._ready.put(_EOF)
                    return
        except BaseException as error:  # re-raised in the consumer's thread
            if not self._stop.is_set():  # after close() nobody is listening
                self._ready.put(error)

    def next(self) -> Chunk | None:
        if self._done:
            return None
        if self._thread is None:
            chunk = self._read_one()
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
        self._pool.give(chunk.index)

    def close(self) -> None:
        """Stop reading ahead. Safe to call more than once and after errors."""
        self._stop.set()
        self._pool.close()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT)


class _Worker:
    """One background thread that runs `handle(job)` for each job, in order."""

    def __init__(self, name: str, handle: Callable[[_Job], None]) -> None:
        self._handle = handle
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                self._handle(job)
            finally:
                self._jobs.task_done()

    def put(self, job: _Job) -> None:
        self._jobs.put(job)

    def join(self) -> None:
        self._jobs.join()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join(_JOIN_TIMEOUT)


class ChunkSink:
    """Hashes and writes buffers to `dst` in submission order.

    `submit(data, hashed, done, hashed_done)`: feed `hashed` to the hasher, call `hashed_done()`,
    write `data`, call `done()` (the callbacks typically return buffers to their pools; they run
    even after an error or `abort`, so pools never run dry). Threaded, hashing (SHA-384 is the
    slowest stage of signed suites) and writing get a thread each. `flush()` waits for
    everything submitted so far; write errors are raised in the caller's thread.
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
        self._writer: _Worker | None = None
        self._hashing: _Worker | None = None
        if threaded:
            self._writer = _Worker("kmscli-writer", self._write)
            if hasher is not None:
                self._hashing = _Worker("kmscli-hasher", self._hash)

    def _skipping(self) -> bool:
        return self._error is not None or self._aborted

    def _hash(self, job: _Job) -> None:
        _, hashed, hashed_done, _ = job
        try:
            if hashed is not None and self._hasher is not None and not self._skipping():
                self._hasher(hashed)
        except BaseException as error:  # re-raised in the producer's thread
            self._error = error
        finally:
            if hashed_done is not None:
                hashed_done()
        if self._writer is None:
            self._write(job)
        else:
            self._writer.put(job)

    def _write(self, job: _Job) -> None:
        data, _, _, done = job
        try:
            if data is not None and len(data) and not self._skipping():
                write_all(self._dst, data)
        except BaseException as error:  # re-raised in the producer's thread
            self._error = error
        finally:
            if done is not None:
                done()

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
        hashed_done: Callable[[], None] | None = None,
    ) -> None:
        self._raise_pending()
        job: _Job = (data, hashed, hashed_done, done)
        if self._hashing is not None:
            self._hashing.put(job)
        elif self._writer is not None:
            self._writer.put(job)
        else:  # inline: hash, write and report errors right here
            self._hash(job)
            self._raise_pending()

    def flush(self) -> None:
        if self._hashing is not None:
            self._hashing.join()
        if self._writer is not None:
            self._writer.join()
        self._raise_pending()

    def close(self) -> None:
        """Finish every write, stop the threads, and raise any write error."""
        self.flush()
        self._stop_threads()

    def abort(self) -> None:
        """Drop pending work (the callbacks still run) and stop the threads."""
        self._aborted = True
        self._stop_threads()

    def _stop_threads(self) -> None:
        if self._hashing is not None:
            self._hashing.stop()
        if self._writer is not None:
            self._writer.stop()
