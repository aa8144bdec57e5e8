"""NumPy's transparent-hugepage advice, off during nearest-neighbour matching where it stalls.

NumPy advises the kernel (``madvise(MADV_HUGEPAGE)``) to back every array of 4 MB or more
with 2 MB pages. Where the kernel serves that advice synchronously, the first touch of a
fresh array can cost far more than the arithmetic on it:

* a kernel that **reports free memory to its hypervisor** (virtio-balloon free page
  reporting, ``/sys/module/page_reporting``) hands the host the free 2 MB blocks, so every
  fresh huge page is faulted in from the host again. On the 2-core virtual machine of
  docs/performance.md's round 8, eight arrays of 10 million doubles took 3.5 to 14 s to fill
  with the advice and 0.5 s without;
* a kernel whose THP ``defrag`` policy compacts memory in the fault for advised regions
  (``always``, ``madvise``, ``defer+madvise``) stalls there when free memory is fragmented.

Only :meth:`estimation.NearestNeighborMatching.fit` uses it: at 10 million units its system
time in page faults went 2.9-3.8 -> 0.8 CPU s with its user time unchanged. The propensity
fit and the balance table keep the advice: there the huge pages' fewer TLB misses (about
1 CPU s of the balance table's gathers) paid for their slower first touch.

:func:`hugepage_advice_off` turns NumPy's advice off for the duration of a ``with`` block
where either holds and THP is ``enabled=madvise`` (with ``always`` the kernel uses huge pages
without advice, with ``never`` not at all: the advice changes nothing). The previous setting
is restored when the last block in the process ends, also after an exception and when
several threads overlap. Nothing else changes: the arrays hold the same values, only the
page size the kernel uses for them. A user who sets ``NUMPY_MADVISE_HUGEPAGE`` has chosen:
then the advice is left as it is. NumPy without the private switch
(``numpy._core.multiarray._set_madvise_hugepage``) is left as it is too. The block cache
(:mod:`estimation.block_cache`, which gives fresh blocks NumPy's advice itself) follows the
switch.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from estimation.block_cache import follow_advice

F = TypeVar("F", bound=Callable[..., Any])

THP = Path("/sys/kernel/mm/transparent_hugepage")
REPORTING = Path("/sys/module/page_reporting")
BALLOON = Path("/sys/bus/virtio/drivers/virtio_balloon")
REPORTING_FEATURE = 5  # VIRTIO_BALLOON_F_REPORTING

_lock = threading.Lock()
_depth = 0
_saved: bool | None = None


def _switch() -> Callable[[bool], bool] | None:
    """NumPy's private setter (returns the previous value), or None where it is missing."""
    try:
        from numpy._core import multiarray
    except ImportError:  # pragma: no cover - NumPy < 2
        try:
            from numpy.core import multiarray  # type: ignore[no-redef]
        except ImportError:
            return None
    setter = getattr(multiarray, "_set_madvise_hugepage", None)
    return setter if callable(setter) else None


def _selected(path: Path) -> str:
    """The bracketed choice of a sysfs policy file ('always [madvise] never' -> 'madvise')."""
    try:
        text = path.read_text()
    except OSError:
        return ""
    start, end = text.find("["), text.find("]")
    return text[start + 1:end] if 0 <= start < end else ""


def reports_free_pages(balloon: Path = BALLOON, reporting: Path = REPORTING) -> bool:
    """Whether a virtio balloon device with free page reporting is bound (the host then
    discards the free 2 MB blocks the kernel reports to it)."""
    if not reporting.is_dir():
        return False
    try:
        devices = [d for d in balloon.iterdir() if d.name.startswith("virtio")]
    except OSError:
        return False
    for device in devices:
        try:
            features = (device / "features").read_text().strip()
        except OSError:
            continue
        if len(features) > REPORTING_FEATURE and features[REPORTING_FEATURE] == "1":
            return True
    return False


@functools.lru_cache(maxsize=4)
def advice_stalls(thp: Path = THP, balloon: Path = BALLOON, reporting: Path = REPORTING) -> bool:
    """Whether NumPy's advice makes fresh memory slow on this kernel (read once a process)."""
    if _selected(thp / "enabled") != "madvise":
        return False
    return (_selected(thp / "defrag") in ("always", "madvise", "defer+madvise")
            or reports_free_pages(balloon, reporting))


def wanted() -> bool:
    """Turn the advice off here: the kernel stalls on it and the user has not chosen."""
    return "NUMPY_MADVISE_HUGEPAGE" not in os.environ and advice_stalls()


@contextmanager
def hugepage_advice_off(switch: Callable[[bool], bool] | None = None) -> Iterator[None]:
    """NumPy's hugepage advice off inside the block where :func:`wanted`; the previous
    setting back when the last overlapping block (any thread) ends."""
    global _depth, _saved
    setter = switch if switch is not None else (_switch() if wanted() else None)
    if setter is None:
        yield
        return
    with _lock:
        if _depth == 0:
            _saved = bool(setter(False))
            _follow(switch, False)
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                setter(bool(_saved))
                _follow(switch, bool(_saved))
                _saved = None


def _follow(switch: Callable[[bool], bool] | None, on: bool) -> None:
    """The block cache's fresh blocks get the advice as NumPy's would (NumPy's switch only)."""
    if switch is None:
        follow_advice(on)


def without_hugepage_advice(function: F) -> F:
    """Decorator: run ``function`` inside :func:`hugepage_advice_off`."""
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with hugepage_advice_off():
            return function(*args, **kwargs)
    return run  # type: ignore[return-value]
