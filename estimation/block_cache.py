"""NumPy's data memory reusing large freed blocks, scoped by a ``with`` block.

glibc's malloc maps every block above its mmap threshold (which rises with the sizes freed,
up to 32 MB) fresh and unmaps it on free. At 10 million units nearly every array is such a
block (80 MB of doubles), and on a virtual machine that reports free pages to its host each
first touch of a fresh page is a slow minor fault: docs/performance.md ("Round 9: in memory
at 10 million, the allocator") measured most of the system time of a 10 million match, its
balance table and its effect there.

:func:`reusing_large_blocks` makes NumPy allocate array data, for the duration of the block,
through the compiled handler of ``estimation/_alloc.c``: a freed block of :data:`THRESHOLD`
bytes or more is kept (up to :data:`CAP` bytes in all; the oldest go back to the system
first) and handed to the next array that fits it (at most :data:`LARGER` per cent larger than asked), whose
pages are then already mapped. ``calloc`` (``np.zeros``) zeroes a reused block. NumPy's
handler is a context variable, so the block is scoped to the thread (and ``asyncio`` task)
that enters it; the pools of :func:`estimation.threads.context_pool` run their calls in a
copy of the caller's context, so their threads use it too. Nested blocks (also in several
threads at once) share one cache, emptied and its memory given back to the system when the
last one ends, also after an exception. NumPy frees an array through the handler that
allocated it, so arrays made inside and freed outside (or the reverse) are freed correctly.

Nothing else changes: every block is a glibc ``malloc`` block with malloc's alignment, fresh
ones get NumPy's huge-page advice as NumPy's default handler gives it (and follow
:mod:`estimation.hugepages`), and the arrays hold the same values. Where the extension is
not built, NumPy is older than 1.22, or ``TILTAK_BLOCK_CACHE=0`` is set, the block does
nothing.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

try:
    from estimation import _alloc
except ImportError:  # the optional extension is not built: the block does nothing
    _alloc = None

F = TypeVar("F", bound=Callable[..., Any])

HANDLER = "tiltak_block_cache"
THRESHOLD = 4 << 20  # bytes: the blocks kept (smaller ones glibc's heap reuses already)
CAP = 1 << 30  # bytes kept at most in all (the 10 million peak stays under 4 GB)
LARGER = 25  # per cent: a kept block is handed to a request at most this much smaller

_lock = threading.Lock()
_module: Any = None
_tried = False


def _load() -> Any:
    """The compiled handler bound to NumPy's C API, or None where either is missing."""
    global _module, _tried
    with _lock:
        if not _tried:
            _tried = True
            _module = _bind()
        return _module


def _bind() -> Any:
    if _alloc is None:
        return None
    capsule = _array_api()
    if capsule is None:
        return None
    try:
        _alloc.bind(capsule)
    except (RuntimeError, ValueError, TypeError):
        return None
    return _alloc


def _array_api() -> Any:
    """NumPy's ``_ARRAY_API`` capsule (its C API table)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # pragma: no cover - NumPy < 2
        try:
            from numpy.core import _multiarray_umath as umath  # type: ignore[no-redef]
        except ImportError:
            return None
    return getattr(umath, "_ARRAY_API", None)


def available() -> bool:
    """Whether :func:`reusing_large_blocks` acts here (extension built, NumPy >= 1.22, not
    switched off by ``TILTAK_BLOCK_CACHE=0``)."""
    return os.environ.get("TILTAK_BLOCK_CACHE", "") != "0" and _load() is not None


def numpy_advice() -> bool:
    """NumPy's current huge-page advice (True where its switch is missing: its default)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - NumPy < 2
        from numpy.core import multiarray  # type: ignore[no-redef]
    getter = getattr(multiarray, "_get_madvise_hugepage", None)
    return bool(getter()) if callable(getter) else True


def follow_advice(on: bool) -> None:
    """Give fresh blocks NumPy's huge-page advice or not (called where it is switched)."""
    module = _module
    if module is not None:
        module.set_advice(bool(on))


def handler_name() -> str:
    """The name of this context's NumPy data memory handler."""
    from numpy._core.multiarray import get_handler_name

    return get_handler_name()


def stats() -> dict[str, int]:
    """The cache's counters since the outermost block began (empty where it cannot act)."""
    module = _load()
    return module.stats() if module is not None else {}


@contextmanager
def reusing_large_blocks(threshold: int = THRESHOLD, cap: int = CAP,
                         larger: int = LARGER) -> Iterator[None]:
    """NumPy allocates array data through the block cache inside the block (see the module's
    text); the outermost block sets ``threshold`` and ``cap`` (bytes) and ``larger`` (per
    cent)."""
    module = _load() if available() else None
    if module is None:
        yield
        return
    with _lock:
        module.enter(int(threshold), int(cap), numpy_advice(), int(larger))
    try:
        previous = module.install()
        try:
            yield
        finally:
            module.restore(previous)
    finally:
        with _lock:
            module.leave()


def with_block_cache(function: F) -> F:
    """Decorator: run ``function`` inside :func:`reusing_large_blocks`."""
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with reusing_large_blocks():
            return function(*args, **kwargs)
    return run  # type: ignore[return-value]
