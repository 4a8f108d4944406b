"""Files that appear whole or not at all: the one place kmscli writes a file durably.

Modules, one job each:

- `durable`: the primitives: create a file that must not exist, write it all, fsync it, rename
  or link it into place, fsync its directory, private directories, unnamed temp files.
- `regular`: open and read a file that must be a regular file, without ever blocking on a FIFO
  or a device planted in its place.
- `temps`: the named temp files of outputs (`.NAME.PID.RAND.kmscli-tmp`) and the sweep of those
  a killed kmscli left behind.
- `atomicoutput`: a command's output path written atomically (`AtomicOutput`), with cp-like modes,
  devices and FIFOs written as streams.

The keyring (kmscli.store) and the CLI's outputs both write through these modules, each choosing
its modes and its temp names by parameter. Nothing else in kmscli calls fsync, rename, link or
O_TMPFILE/O_EXCL itself (tests/test_single_atomic_module.py holds this).

Must not: know what a file's bytes mean, decide names of outputs or of keyring records, or
import anything of kmscli but kmscli.errors. Importing this package imports nothing.
"""
