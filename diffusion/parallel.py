"""Executors: where the chunks of an ensemble (or the points of a sweep) run.

An executor is a callable ``map_chunks(fn, tasks)`` that calls ``fn(*task)``
for every task and yields the results, in any order. It is what
:func:`diffusion.simulate` (``map_chunks=``) and :func:`diffusion.sweep.run_sweep`
accept. Three are provided:

``serial``
    In this process, in order.
``process``
    A local :class:`concurrent.futures.ProcessPoolExecutor` (``forkserver``
    start method where available, else ``spawn``; the global
    :mod:`multiprocessing` state is never changed). Default: one worker per
    available core.
``dask``
    A :mod:`dask.distributed` cluster: an existing one (``scheduler=ADDRESS``)
    or a :class:`~dask.distributed.LocalCluster`. Needs the optional ``dask``
    extra (``pip install 'smb-diffusion[dask]'``).

Results do not depend on the executor or on the number of workers: replicate
``r`` of an ensemble always draws from child ``r`` of the run's
:class:`~numpy.random.SeedSequence` (see :mod:`diffusion._random`).

The arguments that every task of one call shares (the network, the model and
its prepared context) are serialized once per call, not once per task: the
process pool writes them to one file that every worker memory-maps (arrays
are read in place, read-only), and Dask scatters them to its workers.

Examples
--------
>>> import diffusion
>>> from diffusion.parallel import get_executor
>>> net = diffusion.generators.erdos_renyi(300, mean_degree=5, seed=1)
>>> model = diffusion.LinearThreshold(0.2)
>>> with get_executor("serial") as ex:
...     res = diffusion.simulate(net, model, initial=5, runs=8, seed=3, chunk_size=3, map_chunks=ex)
>>> ref = diffusion.simulate(net, model, initial=5, runs=8, seed=3)
>>> bool((res.adoption_step == ref.adoption_step).all())
True
"""

from __future__ import annotations

import contextlib
import mmap
import multiprocessing
import os
import pickle
import tempfile
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any, ClassVar

from .errors import DiffusionError, ParameterError

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "available_workers",
    "get_executor",
]

#: Shared arguments up to this many bytes travel inside each task message.
_INLINE_BYTES = 4 << 20
#: Results above this many bytes come back from process workers through a file.
_RESULT_INLINE_BYTES = 4 << 20
#: Seconds allowed to reach a Dask scheduler before giving up.
DASK_CONNECT_TIMEOUT = 3.0


def available_workers() -> int:
    """Number of CPU cores this process may run on.

    Examples
    --------
    >>> from diffusion.parallel import available_workers
    >>> available_workers() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _check_workers(workers: Any) -> int | None:
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError("workers", f"must be a positive integer, got {workers!r}")
    return int(workers)


# ------------------------------------------------------------ shared args
def _split_shared(tasks: Sequence[tuple[Any, ...]]) -> tuple[tuple[int, ...], tuple[Any, ...]]:
    """Positions (and values) of the arguments that are the same object in every task."""
    if not tasks:
        return (), ()
    first = tasks[0]
    if any(len(t) != len(first) for t in tasks):
        return (), ()
    pos = tuple(i for i in range(len(first)) if all(t[i] is first[i] for t in tasks))
    return pos, tuple(first[i] for i in pos)


def _join(positions: tuple[int, ...], shared: tuple[Any, ...], varying: tuple[Any, ...]) -> list[Any]:
    args: list[Any] = []
    it_s, it_v = iter(shared), iter(varying)
    for i in range(len(positions) + len(varying)):
        args.append(next(it_s) if i in positions else next(it_v))
    return args


def _varying(task: tuple[Any, ...], positions: tuple[int, ...]) -> tuple[Any, ...]:
    return tuple(a for i, a in enumerate(task) if i not in positions)


def _spill_dir(size: int) -> str:
    """A directory for a shared-argument file: RAM-backed ``/dev/shm`` if it has room."""
    shm = "/dev/shm"
    try:
        st = os.statvfs(shm)
        if os.access(shm, os.W_OK) and st.f_bavail * st.f_frsize > 2 * size + (64 << 20):
            return shm
    except OSError:
        pass
    return tempfile.gettempdir()


def _remove_orphans(directory: str) -> None:
    """Remove shared-argument files left by processes that were killed (e.g. ``kill -9``)."""
    try:
        names = os.listdir(directory)
    except OSError:  # pragma: no cover
        return
    for name in names:
        parts = name.split("-")
        if len(parts) < 3 or parts[0] != "diffusion" or not name.endswith(".pkl") or not parts[1].isdigit():
            continue
        try:
            os.kill(int(parts[1]), 0)
        except ProcessLookupError:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(directory, name))
        except OSError:  # alive, owned by someone else
            pass


def _pickle5(obj: Any) -> tuple[bytes, list[memoryview], int]:
    """``obj`` pickled with its large buffers out of band: (main, buffers, total bytes)."""
    buffers: list[pickle.PickleBuffer] = []
    main = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    raws = [b.raw() for b in buffers]
    return main, raws, len(main) + sum(r.nbytes for r in raws)


def _write_file(main: bytes, raws: list[memoryview], size: int) -> tuple[str, list[tuple[int, int]]]:
    """Write a pickle and its buffers (each 64-byte aligned) to one file; (path, layout)."""
    directory = _spill_dir(size)
    _remove_orphans(directory)
    fd, path = tempfile.mkstemp(prefix=f"diffusion-{os.getpid()}-", suffix=".pkl", dir=directory)
    layout = [(0, len(main))]
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(main)
            offset = len(main)
            for r in raws:
                pad = -offset % 64
                fh.write(b"\0" * pad)
                offset += pad
                fh.write(r)
                layout.append((offset, r.nbytes))
                offset += r.nbytes
    except BaseException:
        os.unlink(path)
        raise
    return path, layout


def _read_file(path: str, layout: list[tuple[int, int]], access: int = mmap.ACCESS_READ) -> Any:
    """Unpickle what :func:`_write_file` wrote; arrays map the file instead of copying it."""
    with open(path, "rb") as fh:
        mm = mmap.mmap(fh.fileno(), 0, access=access)
    view = memoryview(mm)
    (a, n), *rest = layout
    return pickle.loads(view[a:a + n], buffers=[view[o:o + k] for o, k in rest])


class _Payload:
    """The arguments every task of one call shares, pickled once.

    Small payloads travel inline with each task; large ones are written to one
    file (pickle protocol 5, every array buffer 64-byte aligned) that workers
    memory-map, so arrays are read in place and shared between processes.
    """

    __slots__ = ("data", "key", "layout", "path")

    def __init__(self, shared: tuple[Any, ...]) -> None:
        main, raws, size = _pickle5(shared)
        self.key = uuid.uuid4().hex
        self.path: str | None = None
        self.layout: list[tuple[int, int]] = []
        self.data: tuple[bytes, list[bytes]] | None = None
        if size <= _INLINE_BYTES:
            self.data = (main, [bytes(r) for r in raws])
        else:
            self.path, self.layout = _write_file(main, raws, size)

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.key, self.path, self.layout, self.data)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.key, self.path, self.layout, self.data = state

    def load(self) -> tuple[Any, ...]:
        """Unpickle the shared arguments (arrays map the file, read-only)."""
        if self.data is not None:
            main, bufs = self.data
            return pickle.loads(main, buffers=bufs)
        assert self.path is not None
        return _read_file(self.path, self.layout)

    def cleanup(self) -> None:
        """Remove the file (workers that mapped it keep their mapping)."""
        if self.path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            self.path = None


class _Spilled:
    """A large task result left in a file by a worker; the pool's owner maps it."""

    __slots__ = ("layout", "path")

    def __init__(self, path: str, layout: list[tuple[int, int]]) -> None:
        self.path, self.layout = path, layout

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.path, self.layout)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.path, self.layout = state


def _spill(result: Any) -> Any:
    """Worker side: a result with large arrays goes back through a file, not the pipe."""
    main, raws, size = _pickle5(result)
    if size <= _RESULT_INLINE_BYTES:
        return result
    return _Spilled(*_write_file(main, raws, size))


def _discard(fut: Future[Any]) -> None:
    """Done-callback of an abandoned task: remove its spilled result, if any."""
    if fut.cancelled() or fut.exception() is not None:
        return
    result = fut.result()
    if isinstance(result, _Spilled):
        with contextlib.suppress(OSError):
            os.unlink(result.path)


def _unspill(result: Any) -> Any:
    """Owner side: read (copy-on-write mapping) and remove a spilled result."""
    if not isinstance(result, _Spilled):
        return result
    try:
        return _read_file(result.path, result.layout, mmap.ACCESS_COPY)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(result.path)


def _watch_parent(lifeline: Any) -> None:
    """Worker initializer: exit as soon as the process that owns the pool is gone.

    ``lifeline`` is the read end of a pipe whose only write end the owner
    holds: the read returns (end of file) when the owner exits however it
    dies — ``kill -9`` included, and even while it lingers as a zombie, whose
    pid a liveness poll would still find.
    """

    def watch() -> None:
        try:
            while True:
                lifeline.recv_bytes()  # nothing is ever sent: returns only at end of file
        except (EOFError, OSError):
            pass
        os._exit(1)

    threading.Thread(target=watch, name="diffusion-watch-parent", daemon=True).start()


#: Worker-side cache: payload key -> shared arguments (the last few calls).
_WORKER_CACHE: dict[str, tuple[Any, ...]] = {}


def _run_shared(
    fn: Callable[..., Any], payload: _Payload, positions: tuple[int, ...], varying: tuple[Any, ...]
) -> Any:
    """Worker entry point: load (once per worker) the shared arguments and call ``fn``."""
    shared = _WORKER_CACHE.get(payload.key)
    if shared is None:
        shared = payload.load()
        while len(_WORKER_CACHE) >= 2:
            _WORKER_CACHE.pop(next(iter(_WORKER_CACHE)))
        _WORKER_CACHE[payload.key] = shared
    return _spill(fn(*_join(positions, shared, varying)))


def _run_with(fn: Callable[..., Any], shared: tuple[Any, ...], positions: tuple[int, ...],
              varying: tuple[Any, ...]) -> Any:
    """Dask entry point: ``shared`` arrives already resolved from a scattered future."""
    return fn(*_join(positions, shared, varying))


# --------------------------------------------------------------- executors
class Executor(ABC):
    """Base class: a ``map_chunks(fn, tasks)`` callable that can be closed.

    Use an executor as a context manager so that its workers are shut down;
    the executor itself (``executor(fn, tasks)``) and its bound method
    :meth:`map_chunks` are both valid ``map_chunks=`` arguments of
    :func:`diffusion.simulate`.
    """

    #: Name used by ``--executor`` and :func:`get_executor`.
    name: ClassVar[str] = ""

    @property
    @abstractmethod
    def workers(self) -> int:
        """Number of tasks this executor runs at the same time."""

    @abstractmethod
    def map_chunks(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        """Call ``fn(*task)`` for every task; yield the results as they complete."""

    def __call__(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        return self.map_chunks(fn, tasks)

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release the workers (a closed executor starts new ones if used again)."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


class SerialExecutor(Executor):
    """Run every task in this process, in order.

    Examples
    --------
    >>> from diffusion.parallel import SerialExecutor
    >>> list(SerialExecutor()(pow, [(2, 3), (3, 2)]))
    [8, 9]
    """

    name = "serial"

    @property
    def workers(self) -> int:
        return 1

    def map_chunks(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        for task in tasks:
            yield fn(*task)


class ProcessExecutor(Executor):
    """Run tasks on a pool of local worker processes.

    Parameters
    ----------
    workers : int, optional
        Number of processes (default: the available cores).
    start_method : {"forkserver", "spawn"}, optional
        How workers start (default ``forkserver`` where available, else
        ``spawn``). Only this pool's context is set; the global
        :mod:`multiprocessing` state is left alone.

    Notes
    -----
    The pool starts on first use and is reused by later calls until
    :meth:`close`. ``fn`` and the tasks must be picklable (``fn`` a
    module-level function).

    Examples
    --------
    >>> from diffusion.parallel import ProcessExecutor
    >>> with ProcessExecutor(workers=2) as ex:
    ...     sorted(ex(pow, [(2, 3), (3, 2)]))
    [8, 9]
    """

    name = "process"

    def __init__(self, workers: int | None = None, *, start_method: str | None = None) -> None:
        self._workers = _check_workers(workers) or available_workers()
        methods = multiprocessing.get_all_start_methods()
        if start_method is None:
            start_method = "forkserver" if "forkserver" in methods else "spawn"
        if start_method not in ("forkserver", "spawn") or start_method not in methods:
            raise ParameterError("start_method", f"must be 'forkserver' or 'spawn', got {start_method!r}")
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None
        self._lifeline: tuple[Any, Any] | None = None

    @property
    def workers(self) -> int:
        return self._workers

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._close_lifeline()
            ctx = multiprocessing.get_context(self.start_method)
            # workers get the read end; this process alone holds the write end (not inheritable)
            self._lifeline = ctx.Pipe(duplex=False)
            self._pool = ProcessPoolExecutor(max_workers=self._workers, mp_context=ctx,
                                             initializer=_watch_parent, initargs=(self._lifeline[0],))
        return self._pool

    def _close_lifeline(self) -> None:
        if self._lifeline is not None:
            for end in self._lifeline:
                end.close()
            self._lifeline = None

    def map_chunks(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        tasks = [tuple(t) for t in tasks]
        if len(tasks) <= 1:  # nothing to run in parallel: skip the round trip
            for task in tasks:
                yield fn(*task)
            return
        positions, shared = _split_shared(tasks)
        payload = _Payload(shared)
        pool = self._get_pool()
        pending: set[Future[Any]] = set()  # submitted, result not yet handed out
        try:
            pending = {pool.submit(_run_shared, fn, payload, positions, _varying(t, positions))
                       for t in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    pending.discard(fut)
                    yield _unspill(fut.result())
        except BrokenProcessPool:
            self._pool = None  # a worker died (e.g. out of memory): start afresh next time
            raise
        finally:
            # abandoned early (an error, Ctrl-C): drop what has not started, and discard
            # the results of what has (tasks still running keep their mapping of the file)
            for fut in pending:
                fut.cancel()
                fut.add_done_callback(_discard)
            payload.cleanup()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._close_lifeline()


class DaskExecutor(Executor):
    """Run tasks on a :mod:`dask.distributed` cluster.

    Parameters
    ----------
    workers : int, optional
        Workers of the local cluster (default: the available cores); ignored
        with ``scheduler``.
    scheduler : str, optional
        Address of an existing cluster's scheduler (``tcp://host:8786``).
        Default: start a :class:`~dask.distributed.LocalCluster`.
    processes : bool, default True
        Whether the local cluster's workers are processes (else threads).
    timeout : float, optional
        Seconds to wait for the scheduler (default :data:`DASK_CONNECT_TIMEOUT`, 3) before raising
        :class:`~diffusion.errors.DiffusionError`.

    Notes
    -----
    The client connects on first use, or on entering the ``with`` block. The
    arguments all tasks share are scattered to the workers once per call.
    Every file a task reads (e.g. a graph file of a scenario) must be
    reachable at the same path on the workers.

    Examples
    --------
    >>> from diffusion.parallel import DaskExecutor
    >>> with DaskExecutor(workers=1, processes=False) as ex:  # doctest: +SKIP
    ...     sorted(ex(pow, [(2, 3), (3, 2)]))
    [8, 9]
    """

    name = "dask"

    def __init__(self, workers: int | None = None, scheduler: str | None = None, *,
                 processes: bool = True, timeout: float | None = None) -> None:
        _import_dask()
        self._n = _check_workers(workers)
        if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
            raise ParameterError("scheduler", f"must be an address such as tcp://host:8786, got {scheduler!r}")
        self.scheduler = scheduler
        self.processes = bool(processes)
        self.timeout = float(DASK_CONNECT_TIMEOUT if timeout is None else timeout)
        self._client: Any = None
        self._cluster: Any = None

    @property
    def workers(self) -> int:
        if self._client is not None:
            n = len(self._client.scheduler_info().get("workers", {}))
            if n:
                return n
        return self._n or available_workers()

    def connect(self) -> Any:
        """The :class:`dask.distributed.Client` (connecting or starting the cluster if needed)."""
        if self._client is not None:
            return self._client
        distributed = _import_dask()
        if self.scheduler is not None:
            from distributed.comm import resolve_address

            try:
                address = resolve_address(self.scheduler.strip())
            except (OSError, ValueError, TypeError) as exc:
                raise ParameterError("scheduler", f"invalid Dask scheduler address {self.scheduler!r}: "
                                     f"{exc}") from None
            if address.startswith("tcp://"):  # (TLS and other transports need their own security)
                _probe_scheduler(self.scheduler, address, self.timeout)
            try:
                self._client = distributed.Client(address, timeout=self.timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise DiffusionError(
                    f"scheduler: cannot reach the Dask scheduler at {self.scheduler} "
                    f"within {self.timeout:g} s ({type(exc).__name__}: {exc})"
                ) from None
        else:
            self._cluster = distributed.LocalCluster(
                n_workers=self._n or available_workers(), threads_per_worker=1,
                processes=self.processes, dashboard_address=None,
            )
            self._client = distributed.Client(self._cluster, set_as_default=False)
        return self._client

    def __enter__(self) -> DaskExecutor:
        self.connect()
        return self

    def map_chunks(self, fn: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]) -> Iterator[Any]:
        tasks = [tuple(t) for t in tasks]
        if not tasks:
            return
        distributed = _import_dask()
        client = self.connect()
        positions, shared = _split_shared(tasks)
        [shared_future] = client.scatter([shared], hash=False)
        futures = [client.submit(_run_with, fn, shared_future, positions, _varying(t, positions),
                                 pure=False) for t in tasks]
        try:
            for fut in distributed.as_completed(futures, loop=client.loop):
                yield fut.result()
        finally:
            client.cancel([*futures, shared_future])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def _probe_scheduler(name: str, address: str, timeout: float) -> None:
    """Raise :class:`DiffusionError` unless a Dask scheduler answers at ``address`` within ``timeout`` s.

    :class:`distributed.Client` bounds only the TCP connection: it then waits
    for the peer's handshake without a deadline (a listener that never speaks
    holds it for minutes) and reads a frame length from whatever answers (the
    first bytes of an HTTP reply ask for exabytes). Here the connection, the
    handshake and one ``identity`` call run under a single deadline, on a
    private event loop in a daemon thread, so nothing outlives it.
    """
    import asyncio

    from distributed.comm import connect

    async def ask() -> Any:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            # a little beyond connect's own deadline, so that its error (refused, no route) is the one seen
            outcome["reply"] = asyncio.run(asyncio.wait_for(ask(), timeout + 0.5))
        except BaseException as exc:  # any failure means: no scheduler there
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="diffusion-probe-scheduler", daemon=True)
    thread.start()
    thread.join(timeout + 1.5)
    exc = outcome.get("error")
    if thread.is_alive() or isinstance(exc, TimeoutError | asyncio.TimeoutError):
        why = f"no answer within {timeout:g} s"
    elif isinstance(exc, OSError):
        cause: BaseException | None = exc
        while cause is not None and not getattr(cause, "strerror", None):
            cause = cause.__cause__ or cause.__context__
        why = f"cannot connect within {timeout:g} s ({getattr(cause, 'strerror', None) or 'no route'})"
    elif exc is not None:  # a reply that is not Dask's protocol (e.g. an HTTP server)
        why = f"the server there does not speak the Dask protocol ({type(exc).__name__})"
    elif not isinstance(outcome.get("reply"), dict) or outcome["reply"].get("type") != "Scheduler":
        why = "the server there is not a Dask scheduler"
    else:
        return
    raise DiffusionError(f"scheduler: cannot reach the Dask scheduler at {name}: {why}")


def _import_dask() -> Any:
    try:
        import dask.distributed as distributed
    except ImportError:  # pragma: no cover - depends on the environment
        raise DiffusionError(
            "executor: the dask executor needs dask.distributed; "
            "install it with: pip install 'smb-diffusion[dask]'"
        ) from None
    return distributed


#: Executor classes by name (the values of ``--executor``).
EXECUTORS: dict[str, type[Executor]] = {
    "serial": SerialExecutor,
    "process": ProcessExecutor,
    "dask": DaskExecutor,
}


def get_executor(name: str = "process", workers: int | None = None,
                 scheduler: str | None = None) -> Executor:
    """An executor by name, as chosen by ``--executor``, ``--workers``, ``--scheduler``.

    Parameters
    ----------
    name : {"process", "serial", "dask"}, default "process"
        Where tasks run.
    workers : int, optional
        Worker count (default: the available cores; ``serial`` ignores it).
    scheduler : str, optional
        Dask scheduler address (``dask`` only).

    Returns
    -------
    Executor
        Use it as a context manager so that its workers are shut down.

    Raises
    ------
    ParameterError
        Unknown name, a worker count that is not a positive integer, or a
        scheduler given to another executor than ``dask``.

    Examples
    --------
    >>> from diffusion.parallel import get_executor
    >>> with get_executor("serial") as ex:
    ...     list(ex(divmod, [(7, 2)]))
    [(3, 1)]
    >>> get_executor("threads")
    Traceback (most recent call last):
    ...
    diffusion.errors.ParameterError: executor: must be one of serial, process, dask; got 'threads'
    """
    if name not in EXECUTORS:
        raise ParameterError("executor", f"must be one of {', '.join(EXECUTORS)}; got {name!r}")
    workers = _check_workers(workers)
    if scheduler is not None and name != "dask":
        raise ParameterError("scheduler", "is only used by the dask executor (--executor dask)")
    if name == "serial":
        return SerialExecutor()
    if name == "process":
        return ProcessExecutor(workers)
    return DaskExecutor(workers, scheduler)
