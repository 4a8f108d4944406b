"""Bounded, overlapped stream I/O for the frame encoder and decoder.

Owns: `ChunkSource` (reads fixed-size chunks ahead on a background thread into a small pool of
reused buffers) and `ChunkSink` (hashes, for signed suites, and writes chunks in order, each on
its own background thread). AES-GCM, SHA-384, `readinto` and `write` all release the GIL
(measured with cryptography 50), so on two cores reading, sealing, hashing and writing overlap
while the caller's thread only seals or opens. Memory is the pools, never the stream.

Must not: know the message format, or swallow errors: an exception on a worker thread is
re-raised in the calling thread at the next call. With `threaded=False` everything runs inline
in the caller's thread (same behaviour, no overlap).

Must not leave a worker blocked in I/O either. A read of a pipe or terminal can wait forever
(a slow or stalled writer), and a worker blocked inside a buffered stream's read or write holds
that stream's lock: once the command ends (a damaged frame, Ctrl-C), the interpreter cannot
close sys.stdin or sys.stdout at exit and aborts ("Fatal Python error: _enter_buffered_busy").
So for streams that can block (anything but regular files and block devices) the workers do
not use the buffered object at all: what it already buffered is taken once in the caller's
thread, and then the worker reads or writes the file descriptor itself, only after poll() says
it is ready, polling a wake-up pipe too; `close` and `abort` wake it, and it is gone at once.
"""

from __future__ import annotations

import contextlib
import io
import mmap
import os
import queue
import select
import stat
import threading
import time
from collections.abc import Callable
from typing import BinaryIO, Final, Protocol

Buffer = bytes | bytearray | memoryview
# (data to write, data to hash, called once hashed, called once written)
_Job = tuple[Buffer | None, Buffer | None, Callable[[], None] | None, Callable[[], None] | None]

_EOF: Final = object()
# Workers normally finish at once. One blocked in I/O on a stalled pipe (after an error
# elsewhere) is a daemon: wait this long for it, then leave it behind rather than hang the caller.
_JOIN_TIMEOUT: Final = 0.5


class StoppedError(Exception):
    """A worker's blocking wait was ended by `close` or `abort`."""


def blocking_fd(stream: object) -> int | None:
    """The descriptor of `stream` when a read or write of it may wait indefinitely (a pipe, FIFO,
    socket or terminal) and the worker can use the descriptor directly; None otherwise."""
    if not isinstance(stream, (io.BufferedReader, io.BufferedWriter, io.FileIO)):
        return None
    try:
        fd = stream.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError):
        return None
    return None if stat.S_ISREG(mode) or stat.S_ISBLK(mode) else fd


class _PolledFd:
    """Reads or writes one descriptor only once poll() says it is ready; `wake()` (from any
    thread) ends a wait with StoppedError. The descriptor itself is never closed here."""

    def __init__(self, fd: int, events: int) -> None:
        self.fd = fd
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._poll = select.poll()
        self._poll.register(fd, events)
        self._poll.register(self._wake_r, select.POLLIN)
        self._lock = threading.Lock()
        self._closed = False

    def wait(self) -> None:
        """Until the descriptor is ready (or in error, which the next read or write reports)."""
        while True:
            ready = dict(self._poll.poll())
            if self._wake_r in ready:
                raise StoppedError
            if self.fd in ready:
                return

    def readinto(self, view: memoryview) -> int:
        while True:
            self.wait()
            try:
                return os.readv(self.fd, [view])
            except BlockingIOError:  # a non-blocking descriptor raced by another reader
                continue

    def write(self, view: memoryview) -> int:
        while True:
            self.wait()
            try:
                return os.write(self.fd, view)
            except BlockingIOError:
                continue

    def wake(self) -> None:
        with self._lock:
            if not self._closed:
                with contextlib.suppress(BlockingIOError):  # already woken
                    os.write(self._wake_w, b"!")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                os.close(self._wake_r)
                os.close(self._wake_w)


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


class _Writable(Protocol):
    def write(self, view: memoryview, /) -> int | None: ...


def write_all(dst: BinaryIO | _Writable, data: Buffer) -> None:
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
        self._polled: _PolledFd | None = None
        self._pending = memoryview(b"")
        fd = blocking_fd(src) if threaded else None
        if fd is not None:
            # What the buffered object holds is taken here, in the caller's thread (where a wait
            # can be interrupted); the worker then reads the descriptor itself.
            peek = getattr(src, "peek", None)
            if peek is not None:
                self._pending = memoryview(src.read(len(peek(1))))
            self._polled = _PolledFd(fd, select.POLLIN)
        if threaded:
            self._thread = threading.Thread(target=self._run, name="kmscli-reader", daemon=True)
            self._thread.start()

    def _fill(self, view: memoryview) -> int:
        polled = self._polled
        if polled is None:
            return fill(self._src, view)
        got = min(len(self._pending), len(view))
        view[:got] = self._pending[:got]
        self._pending = self._pending[got:]
        while got < len(view):
            count = polled.readinto(view[got:])
            if count == 0:
                break
            got += count
        return got

    def _read_one(self) -> Chunk | None:
        taken = self._pool.take()
        if taken is None:
            raise RuntimeError("ChunkSource read after close()")
        index, view = taken
        count = self._fill(view)
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
        except StoppedError:
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
        if self._polled is not None:
            self._polled.wake()
        if self._thread is not None:
            self._thread.join(_JOIN_TIMEOUT)
        if self._polled is not None and not (self._thread and self._thread.is_alive()):
            self._polled.close()


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

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


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
        self._polled: _PolledFd | None = None
        fd = blocking_fd(dst) if threaded else None
        if fd is not None:
            dst.flush()  # anything written before goes first; the writer then uses `fd` itself
            self._polled = _PolledFd(fd, select.POLLOUT)
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
                write_all(self._dst if self._polled is None else self._polled, data)
        except StoppedError:
            pass  # aborted: nothing more is written
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
        if self._polled is not None:
            self._polled.wake()  # a write waiting for a stalled reader ends now
        self._stop_threads()

    def _stop_threads(self) -> None:
        if self._hashing is not None:
            self._hashing.stop()
        if self._writer is not None:
            self._writer.stop()
        stuck = self._writer is not None and self._writer.alive
        if self._polled is not None and not stuck:
            self._polled.close()
