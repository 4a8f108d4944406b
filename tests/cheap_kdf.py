"""A cheap Argon2id cost for keyrings the tests create: test harness only, never the product.

A passphrase keyring's header records its Argon2id parameters and opening it derives with
whatever the header says, so a keyring created with cheap parameters opens cheaply. The product
always creates keyrings with `Argon2Params.fresh()` (64 MiB, 3 passes) and has no way to lower
that cost; the tests replace `fresh` here:

- in-process, the autouse fixture `cheap_argon2` of tests/conftest.py calls `cheap_fresh`
  through monkeypatch (a test that asks for the `real_argon2` fixture keeps the real cost);
- in a real process, the test launchers (tests/conftest.py, tests/timetravel.py) call
  `install_on_import()` before kmscli's entry point, which patches `fresh` when
  `kmscli.store.rootkey` is first imported (so commands that never open a keyring import no
  more than they would without it).

The committed vectors (tests/vectors) keep their real parameters: they are not made here.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

ROOTKEY = "kmscli.store.rootkey"
# The smallest cost rootkey's header check accepts: memory >= 8 KiB per lane.
CHEAP_MEMORY_KIB = 8
CHEAP_ITERATIONS = 1
CHEAP_LANES = 1


def cheap_fresh(rootkey: ModuleType) -> Any:
    """A replacement for `Argon2Params.fresh`: fresh salt, the cheapest accepted cost."""
    params = rootkey.Argon2Params

    def fresh(_cls: type) -> Any:
        return params(
            memory_kib=CHEAP_MEMORY_KIB,
            iterations=CHEAP_ITERATIONS,
            lanes=CHEAP_LANES,
            salt=rootkey.random_bytes(rootkey.ARGON2_SALT_BYTES),
        )

    return classmethod(fresh)


def _install(rootkey: ModuleType) -> None:
    rootkey.Argon2Params.fresh = cheap_fresh(rootkey)


class _PatchRootkey(importlib.abc.MetaPathFinder):
    """Patches kmscli.store.rootkey right after it executes, then steps aside."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> Any:
        if fullname != ROOTKEY:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader: Any = spec.loader
        execute = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            _install(module)

        loader.exec_module = exec_module
        return spec


def install_on_import() -> None:
    """In a test launcher's process: cheap Argon2id for every keyring this process creates."""
    if ROOTKEY in sys.modules:
        _install(sys.modules[ROOTKEY])
    else:
        sys.meta_path.insert(0, _PatchRootkey())
