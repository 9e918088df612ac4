"""What a model (or a stage after it) produces: declared outputs.

Every model states once, in :meth:`diffusion.Model.declare`, each output it
produces — its name, its *kind*, its labels and what it means — and every
consumer (the ensemble reductions, summaries, ``runs.csv`` / ``curve.csv`` /
``nodes.csv``, printed lines, figures, the HTML export, the shock stage) reads
the declaration instead of probing result dictionaries for known key names.
A model with a new output is therefore a change to its own file only.

Kinds
-----
=================  ===========================  =======================================
kind               array a chunk produces        how it reduces over replicates
=================  ===========================  =======================================
``node_category``  ``(R, n)`` integer codes      per node, frequency of each category
                                                 ``(n, K)`` (codes outside the labels:
                                                 not counted)
``node_value``     ``(R, n)`` numbers            per node, mean over the replicates
                                                 where it is defined ``(n,)``
``run_category``   ``(R,)`` integer codes        kept per replicate; summary: share of
                                                 replicates in each category
``run_value``      ``(R,)`` or ``(R, K)``        kept per replicate; summary: mean,
                                                 spread and quantiles
``series``         ``(T + 1, R)`` or             kept per step and replicate
                   ``(T + 1, R, K)``
``node_series``    ``(T + 1, R, n)`` codes       kept only for the replicates asked for
                                                 (e.g. the one an HTML page replays)
=================  ===========================  =======================================

Categorical outputs map code ``start + i`` to ``labels[i]``. Vector-valued
run values and series name their components with ``labels``.

Roles
-----
A few consumers need to know what an output *is*, not only its shape. They
look for these roles (a model sets at most one output per role):

``"holding"``
    node_category: the platform or practice each firm relies on; code 0 is
    "none", codes ``1..K`` are ``labels[1..K]``. Shocks (a platform outage)
    and the HTML export read it. Models without one are read as holding one
    thing, ``"adopted"``, when they adopted.
``"second_holding"``
    node_category with the codes of ``"holding"``: a second platform held at
    the same time (multi-homing).
``"holding_history"``
    node_series with the codes of ``"holding"``: what each firm held after
    every step (kept only for the replicates asked for); the HTML timeline
    replays it.
``"shares"``
    series (and run_value) of per-platform shares, components ``labels``.
``"concentration"``
    series / run_value: a concentration index such as the HHI.
``"winner"``
    run_category: the platform a replicate locked in to (0: none).
``"cause"``
    node_category: why a firm adopted (e.g. the pressure that brought it in).
``"by_cause"``
    series of cumulative adoptions per cause, components ``labels``.
``"outcome"``
    run_category: the headline outcome of a replicate (e.g. correct, wrong or
    no cascade).
``"failed"``, ``"distress"``, ``"failed_round"``
    node_value from a shock stage: whether a firm failed, its final distress,
    the propagation round in which it failed (-1: never).

Examples
--------
>>> from diffusion.declarations import Output
>>> out = Output.node_category("platform", ("none", "A", "B"), "platform each firm holds", role="holding")
>>> out.kind, out.codes.tolist()
('node_category', [0, 1, 2])
>>> Output.run_value("hhi", "Herfindahl index at the end").columns()
['hhi']
>>> Output.run_value("shares", "final shares", labels=("A", "B")).columns()
['shares_A', 'shares_B']
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["KINDS", "ROLES", "Declarations", "Output"]

#: Output kinds (see the module docstring).
KINDS = ("node_category", "node_value", "run_category", "run_value", "series", "node_series")
#: Roles consumers look for (see the module docstring).
ROLES = ("holding", "second_holding", "holding_history", "shares", "concentration", "winner", "cause",
         "by_cause", "outcome", "failed", "distress", "failed_round")


@dataclass(frozen=True)
class Output:
    """One declared output.

    Attributes
    ----------
    name : str
        Key of the output (a column name prefix in CSV files).
    kind : str
        One of :data:`KINDS`.
    description : str
        One line saying what it is (shown in ``diffusion info`` and captions).
    labels : tuple of str
        Category names (categorical kinds: code ``start + i`` is ``labels[i]``)
        or component names (vector-valued run values and series).
    start : int
        Code of ``labels[0]`` (categorical kinds).
    role : str or None
        What consumers may rely on (see :data:`ROLES`).
    missing : float or None
        node_value: the value meaning "undefined" in a replicate (e.g. ``-1``
        for "never"), left out of the mean.
    integer : bool
        node_value: the values are integers (summed exactly).
    bounds : (float, float)
        node_value with non-integer values: the range they lie in. Sums are
        accumulated in fixed point within it, so that reductions are exactly
        the same for any chunking and executor.
    column : str or None
        node_value: the name of its per-node mean in ``nodes.csv`` (default
        ``mean_<name>``; e.g. ``failure_probability`` for a 0/1 ``failed``).
    """

    name: str
    kind: str
    description: str = ""
    labels: tuple[str, ...] = ()
    start: int = 0
    role: str | None = None
    missing: float | None = None
    integer: bool = False
    bounds: tuple[float, float] = (0.0, 1.0)
    column: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"output {self.name!r}: kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.role is not None and self.role not in ROLES:
            raise ValueError(f"output {self.name!r}: role must be one of {', '.join(ROLES)}, got {self.role!r}")
        if self.categorical and not self.labels:
            raise ValueError(f"output {self.name!r}: a categorical output needs labels")
        object.__setattr__(self, "labels", tuple(str(x) for x in self.labels))
        lo, hi = self.bounds
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ValueError(f"output {self.name!r}: bounds must be finite with low < high")

    # ------------------------------------------------------------ constructors
    @classmethod
    def node_category(cls, name: str, labels: Sequence[str], description: str = "", *, start: int = 0,
                      role: str | None = None) -> Output:
        """A per-node category (an integer code per node and replicate)."""
        return cls(name, "node_category", description, tuple(labels), start, role)

    @classmethod
    def node_value(cls, name: str, description: str = "", *, integer: bool = False,
                   missing: float | None = None, bounds: tuple[float, float] = (0.0, 1.0),
                   role: str | None = None, column: str | None = None) -> Output:
        """A per-node number (reduced to its mean over the replicates where it is defined)."""
        return cls(name, "node_value", description, role=role, missing=missing, integer=integer,
                   bounds=bounds, column=column)

    @classmethod
    def run_category(cls, name: str, labels: Sequence[str], description: str = "", *, start: int = 0,
                     role: str | None = None) -> Output:
        """A per-replicate category."""
        return cls(name, "run_category", description, tuple(labels), start, role)

    @classmethod
    def run_value(cls, name: str, description: str = "", *, labels: Sequence[str] = (),
                  role: str | None = None) -> Output:
        """A per-replicate number (or vector of numbers named by ``labels``)."""
        return cls(name, "run_value", description, tuple(labels), role=role)

    @classmethod
    def series(cls, name: str, description: str = "", *, labels: Sequence[str] = (),
               role: str | None = None) -> Output:
        """A per-step, per-replicate number (or vector named by ``labels``)."""
        return cls(name, "series", description, tuple(labels), role=role)

    @classmethod
    def node_series(cls, name: str, labels: Sequence[str], description: str = "", *, start: int = 0,
                    role: str | None = None) -> Output:
        """A per-step, per-node category, kept only for the replicates asked for."""
        return cls(name, "node_series", description, tuple(labels), start, role)

    # ------------------------------------------------------------ properties
    @property
    def categorical(self) -> bool:
        """Whether values are category codes."""
        return self.kind in ("node_category", "run_category", "node_series")

    @property
    def per_node(self) -> bool:
        """Whether the output has one value per node (and replicate)."""
        return self.kind in ("node_category", "node_value", "node_series")

    @property
    def vector(self) -> bool:
        """Whether a run value or series has several named components."""
        return self.kind in ("run_value", "series") and bool(self.labels)

    @property
    def codes(self) -> np.ndarray:
        """Category codes, ``start .. start + K - 1`` (categorical kinds)."""
        return np.arange(self.start, self.start + len(self.labels))

    @property
    def K(self) -> int:
        """Number of categories or components."""
        return len(self.labels)

    def label_of(self, code: int) -> str | None:
        """Label of a category code, ``None`` outside the declared codes."""
        i = int(code) - self.start
        return self.labels[i] if 0 <= i < len(self.labels) else None

    def columns(self, prefix: str | None = None) -> list[str]:
        """Flat column names: ``name`` or ``name_<label>`` per component / category.

        For a node value, the name of its per-node mean (:attr:`column`, default ``mean_<name>``).
        """
        base = prefix or self.name
        if self.vector or self.kind in ("node_category",):
            return [f"{base}_{lab}" for lab in self.labels]
        if self.kind == "node_value":
            return [self.column or f"mean_{base}"]
        return [base]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description (for ``diffusion info`` and ``summary.json``)."""
        out: dict[str, Any] = {"name": self.name, "kind": self.kind, "description": self.description}
        if self.labels:
            out["labels"] = list(self.labels)
        if self.categorical and self.start:
            out["start"] = self.start
        if self.role:
            out["role"] = self.role
        if self.missing is not None:
            out["missing"] = self.missing
        return out


class Declarations(Sequence[Output]):
    """The outputs of a model (and of the stages after it), in declaration order.

    Examples
    --------
    >>> from diffusion.declarations import Declarations, Output
    >>> d = Declarations([Output.run_value("x"), Output.node_category("c", ("a", "b"), role="cause")])
    >>> d["x"].kind, d.role("cause").name, [o.name for o in d.of_kind("run_value")]
    ('run_value', 'c', ['x'])
    >>> "y" in d
    False
    """

    def __init__(self, outputs: Iterable[Output] = ()) -> None:
        self._outputs: tuple[Output, ...] = ()
        self._by_name: dict[str, Output] = {}
        for out in outputs:
            self._add(out)

    def _add(self, out: Output) -> None:
        if not isinstance(out, Output):
            raise TypeError(f"declarations hold Output objects, got {type(out).__name__}")
        if out.name in self._by_name:
            raise ValueError(f"output {out.name!r} is declared twice")
        if out.role is not None and out.role in {o.role for o in self._outputs}:
            raise ValueError(f"two outputs have the role {out.role!r}")
        self._outputs = (*self._outputs, out)
        self._by_name[out.name] = out

    def __add__(self, other: Iterable[Output]) -> Declarations:
        return Declarations([*self._outputs, *other])

    def __len__(self) -> int:
        return len(self._outputs)

    def __iter__(self) -> Iterator[Output]:
        return iter(self._outputs)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return self._by_name[key]
            except KeyError:
                raise KeyError(f"no output named {key!r} (declared: {', '.join(self._by_name) or 'none'})") from None
        return self._outputs[key]

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            return key in self._by_name
        return key in self._outputs

    def of_kind(self, *kinds: str) -> list[Output]:
        """The outputs of the given kinds, in declaration order."""
        return [o for o in self._outputs if o.kind in kinds]

    def role(self, role: str) -> Output | None:
        """The output with ``role``, or ``None``."""
        for o in self._outputs:
            if o.role == role:
                return o
        return None

    def names(self) -> list[str]:
        return list(self._by_name)

    def to_list(self) -> list[dict[str, Any]]:
        return [o.to_dict() for o in self._outputs]

    def __repr__(self) -> str:
        return "Declarations(" + ", ".join(f"{o.name}:{o.kind}" for o in self._outputs) + ")"
