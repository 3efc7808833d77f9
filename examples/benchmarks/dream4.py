"""DREAM4 size-100 benchmark: bayesgrn against Pearson, GENIE3, GRNBoost2 and knockout z-scores.

For each network x setting x method the script fits or scores the network, measures the
wall time of the fit (``time.perf_counter``) and its peak memory, and scores the ranking with
:func:`bayesgrn.evaluate` (AUROC, AUPR) against the matching DREAM4 gold standard.

Settings
--------
``multifactorial``
    The 100 multifactorial steady states alone, read with ``names="renamed"`` and scored
    against ``DREAM4_GoldStandard_InSilico_Size100_multifactorial_N.tsv`` (the renamed genes).
``all``
    All four tables (wild type, knockouts, knockdowns, multifactorial; 301 samples) in the
    original gene names, scored against ``DREAM4_GoldStandard_InSilico_Size100_N.tsv``. The
    knockout z-score (``kozscore``) runs only here, on the wild-type and knockout tables.

Methods
-------
``bayesgrn`` is run untuned: ``bayesgrn.fit(data, seed=seed, num_steps=steps)`` on the data
as :func:`bayesgrn.read_dream4` prepares it (design filled in, ``log(x + 0.01)``); its ranking
is the posterior's ``edges()`` order (``p_edge``, ties by ``|mean|``). The peers get the raw
levels, as their authors intended and as users run them (``--peer-transform log`` gives them
the same ``log(x + 0.01)`` instead): ``pearson`` (|correlation|), ``genie3`` (random forests,
``--trees``), ``grnboost2`` (arboreto's gradient boosting with early stopping) and ``kozscore``
(|x_ko - x_wt| / sd), all from ``examples/benchmarks/peers.py``.

Measurement
-----------
Every (network, setting, method) runs in a fresh Python process (this script re-run with a
hidden worker argument), so each method's memory is its own. ``peak_mem_mb`` is the peak
resident memory during the fit minus the resident memory just before it (after the imports
and reading the data); ``peak_rss_mb`` is that peak itself. On Linux the peak also counts the
worker processes a method starts (GRNBoost2's joblib workers), sampled from ``/proc`` every
50 ms; elsewhere it is the process's own ``ru_maxrss``. ``seconds`` is the fit or scoring
alone. ``--n-jobs`` is the CPU parallelism of every method: GENIE3's forest jobs, GRNBoost2's
parallel targets and torch's intra-op threads for bayesgrn (on a GPU, bayesgrn runs there;
see the ``device`` column; ``peak_*`` is host memory only).

Reproduce the full table (slow: hours on two cores, dominated by GENIE3 and GRNBoost2)::

    python examples/benchmarks/dream4.py --networks 1 2 3 --settings multifactorial all \
        --methods bayesgrn pearson genie3 grnboost2 kozscore --trees 1000 --seed 0 \
        --n-jobs 2 --out dream4_results.tsv

A smoke test runs in seconds::

    python examples/benchmarks/dream4.py --networks 1 --settings multifactorial \
        --methods pearson bayesgrn --steps 20 --trees 5
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

import bayesgrn
from bayesgrn.dream4 import dream4_gold_standard

HERE = Path(__file__).resolve()
DEFAULT_DATA = HERE.parents[3] / "shared" / "data" / "dream4" / "size100"
METHODS = (
    "bayesgrn", "bayesgrn-sigmoid", "bayesgrn-gibbs", "bayesgrn-no-hubs", "bayesgrn-gibbs-no-hubs",
    "bayesgrn-conjugate", "pearson", "genie3", "grnboost2", "kozscore",
)  # fmt: skip
#: bayesgrn methods: the bundled model spec each fits and the inference method (default:
#: the linear family by SVI; "bayesgrn-gibbs" samples the per-target regressions, without
#: the Jacobian term, exactly with fit(method="gibbs") and its default draws; "-no-hubs"
#: drops the default's scale per regulator, prior.regulator_scale)
BAYESGRN_MODELS = {  # method: (bundled spec, inference, prior overrides)
    "bayesgrn": ("horseshoe", "svi", None),
    "bayesgrn-sigmoid": ("sigmoid_horseshoe", "svi", None),
    "bayesgrn-gibbs": ("horseshoe_pseudolikelihood", "gibbs", None),
    "bayesgrn-no-hubs": ("horseshoe_no_hubs", "svi", None),
    "bayesgrn-gibbs-no-hubs": ("horseshoe_pseudolikelihood", "gibbs", {"regulator_scale": False}),
    "bayesgrn-conjugate": ("horseshoe_conjugate", "svi", None),
}
SETTINGS = ("multifactorial", "all")
WORKER = "_dream4_worker"
# A worker is started with ``python -c _BOOT``, not as ``python dream4.py``: processes that a
# method spawns (GRNBoost2's joblib/loky workers) re-import a main *script*, which would load
# torch (via bayesgrn) into every one of them and inflate the peers' memory.
_BOOT = (
    "import importlib.util, sys; "
    "spec = importlib.util.spec_from_file_location('bayesgrn_dream4_benchmark', sys.argv[1]); "
    "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
    "sys.exit(module.main(sys.argv[2:]))"
)
COLUMNS = [
    "method", "setting", "network", "auroc", "aupr", "seconds", "peak_mem_mb", "peak_rss_mb",
    "device",
]  # fmt: skip


# ---------------------------------------------------------------------- memory
def _rss_bytes(pid: int | str = "self") -> int:
    """Current resident memory of one process (0 when it cannot be read)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of ``root`` and all its descendant processes (Linux ``/proc``)."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", encoding="ascii", errors="replace") as handle:
                stat = handle.read()
            # the command name may hold spaces: the fields after the last ')' are fixed
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(_rss_bytes(pid) for pid in tree)


def _self_peak_bytes() -> int:
    """Peak resident memory of this process so far (``ru_maxrss``: KiB on Linux)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


class PeakMemory:
    """Track the peak resident memory of this process and its children during a block.

    On Linux a thread samples the process tree every ``interval`` seconds (to count worker
    processes); the process's own ``ru_maxrss`` is always included.
    """

    def __init__(self, interval: float = 0.05) -> None:
        self.interval = interval
        self.before = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> PeakMemory:
        self.before = _rss_bytes() or _self_peak_bytes()
        self.peak = self.before
        if os.path.isdir("/proc/self"):
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        pid = os.getpid()
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_bytes(pid))
            self._stop.wait(self.interval)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, _self_peak_bytes())

    @property
    def increase_mb(self) -> float:
        """Peak minus the resident memory at the start, in MiB."""
        return max(self.peak - self.before, 0) / 2**20

    @property
    def peak_mb(self) -> float:
        """The peak, in MiB."""
        return self.peak / 2**20


@contextlib.contextmanager
def without_torch_warning_filters() -> Iterator[None]:
    """Drop the warning filters whose category is a torch class, for the block.

    scikit-learn's ``Parallel`` ships the parent's warning filters to its worker processes;
    torch (imported here only because bayesgrn is) installs a filter on
    ``torch.jit.TracerWarning``, and unpickling it makes every GRNBoost2 worker import torch
    (~200 MiB each) -- memory a user running GRNBoost2 would never pay.
    """
    with warnings.catch_warnings():
        kept = [f for f in warnings.filters if not f[2].__module__.startswith("torch")]
        warnings.resetwarnings()
        warnings.filters.extend(kept)
        yield


# ---------------------------------------------------------------------- one run
def _load_peers() -> ModuleType:
    path = HERE.parent / "peers.py"
    spec = importlib.util.spec_from_file_location("bayesgrn_benchmark_peers", path)
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships alongside
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_one(task: dict[str, Any]) -> dict[str, Any]:
    """Read the data, fit or score one method, and measure and score it.

    Parameters
    ----------
    task
        ``method, setting, network, data, trees, steps, seed, n_jobs, peer_transform``.

    Returns
    -------
    dict
        One row of the results table (see ``COLUMNS``).
    """
    method, setting, network = task["method"], task["setting"], task["network"]
    directory = task["data"]
    multifactorial = setting == "multifactorial"
    if multifactorial:
        tables: tuple[str, ...] = ("multifactorial",)
    elif method == "kozscore":
        tables = ("wildtype", "knockouts")
    else:
        tables = ("wildtype", "knockouts", "knockdowns", "multifactorial")
    names = "renamed" if multifactorial else "original"
    ours = method in BAYESGRN_MODELS
    transform = "log" if ours else task["peer_transform"]
    data = bayesgrn.read_dream4(directory, network, tables=tables, transform=transform,
                                names=names)  # fmt: skip
    gold = dream4_gold_standard(directory, network, multifactorial=multifactorial)
    peers = None if ours else _load_peers()
    device = "cpu"
    if ours:
        import torch

        torch.set_num_threads(task["n_jobs"])
    isolation = without_torch_warning_filters() if peers else contextlib.nullcontext()
    with isolation, PeakMemory() as memory:
        start = time.perf_counter()
        if ours:
            model, inference, prior = BAYESGRN_MODELS[method]
            prediction: Any = bayesgrn.fit(
                data, model=model, method=inference, seed=task["seed"], prior=prior,
                num_steps=task["steps"] if inference == "svi" else None,
            )  # fmt: skip
            device = prediction.device
        else:
            assert peers is not None
            x = data.values
            if method == "pearson":
                scores = peers.pearson_scores(x)
            elif method == "genie3":
                scores = peers.genie3_scores(
                    x, n_trees=task["trees"], seed=task["seed"], n_jobs=task["n_jobs"]
                )
            elif method == "grnboost2":
                scores = peers.grnboost2_scores(x, seed=task["seed"], n_jobs=task["n_jobs"])
            elif method == "kozscore":
                is_ko = np.array([p == "knockout" for p in data.perturbation])
                knocked = data.perturbed[is_ko].argmax(axis=1)
                scores = peers.knockout_zscores(x[~is_ko], x[is_ko], knocked)
            else:
                raise ValueError(f"unknown method {method!r}")
            prediction = peers.scores_to_edges(scores, data.genes, data.genes)
        seconds = time.perf_counter() - start
    metrics = bayesgrn.evaluate(prediction, gold)
    return {
        "method": method,
        "setting": setting,
        "network": network,
        "auroc": metrics["auroc"],
        "aupr": metrics["aupr"],
        "seconds": seconds,
        "peak_mem_mb": memory.increase_mb,
        "peak_rss_mb": memory.peak_mb,
        "device": device,
    }


def _worker(task_file: str) -> int:
    """Entry point of a worker process: run the task in ``task_file``, write its result."""
    task = json.loads(Path(task_file).read_text(encoding="utf-8"))
    row = run_one(task)
    Path(task["result"]).write_text(json.dumps(row), encoding="utf-8")
    return 0


def run_isolated(task: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`run_one` in a fresh Python process and return its row.

    Parameters
    ----------
    task
        As for :func:`run_one`.

    Returns
    -------
    dict
        The worker's result row.
    """
    with tempfile.TemporaryDirectory(prefix="bayesgrn-dream4-") as tmp:
        task_file = Path(tmp) / "task.json"
        result = Path(tmp) / "result.json"
        task_file.write_text(json.dumps({**task, "result": str(result)}), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-c", _BOOT, str(HERE), WORKER, str(task_file)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not result.exists():
            raise RuntimeError(
                f"{task['method']} on network {task['network']} ({task['setting']}) failed "
                f"with exit status {done.returncode}:\n{done.stderr[-4000:]}"
            )
        return json.loads(result.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------- the table
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description="DREAM4 size-100 benchmark of bayesgrn and its peers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="DREAM4 size100 folder")
    parser.add_argument("--networks", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--settings", nargs="+", choices=SETTINGS, default=list(SETTINGS))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--trees", type=int, default=1000, help="GENIE3 trees per target")
    parser.add_argument(
        "--steps", type=int, default=None, help="bayesgrn maximum SVI steps (default: the spec's)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=2, help="CPU parallelism of each method")
    parser.add_argument(
        "--peer-transform",
        choices=("none", "log"),
        default="none",
        help="data the peers see: raw levels, or log(x + 0.01) like bayesgrn",
    )
    parser.add_argument("--out", type=Path, default=None, help="also write the table here (TSV)")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run every method in this process (faster to debug; memory numbers then overlap)",
    )
    return parser.parse_args(argv)


def aupr_pivot(table: pd.DataFrame) -> pd.DataFrame:
    """AUPR per method (rows) and setting x network (columns), plus the mean per setting.

    Parameters
    ----------
    table
        The results table.

    Returns
    -------
    pandas.DataFrame
        Columns ``(setting, network)`` and ``(setting, "mean")``.
    """
    pivot = table.pivot_table(index="method", columns=["setting", "network"], values="aupr")
    pivot.columns = pd.MultiIndex.from_tuples([(s, str(n)) for s, n in pivot.columns])
    parts = []
    for setting in [s for s in SETTINGS if s in pivot.columns.get_level_values(0)]:
        block = pivot[setting]
        parts.append(pd.concat({setting: block.assign(mean=block.mean(axis=1))}, axis=1))
    return pd.concat(parts, axis=1)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table.

    Parameters
    ----------
    argv
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == [WORKER]:
        return _worker(argv[1])
    args = parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"DREAM4 folder {args.data} not found; pass --data DIR")
    peer_transform = None if args.peer_transform == "none" else args.peer_transform
    rows = []
    for network in args.networks:
        for setting in args.settings:
            for method in args.methods:
                if method == "kozscore" and setting != "all":
                    continue  # needs the knockout table
                task = {
                    "method": method, "setting": setting, "network": network,
                    "data": str(args.data), "trees": args.trees, "steps": args.steps,
                    "seed": args.seed, "n_jobs": args.n_jobs, "peer_transform": peer_transform,
                }  # fmt: skip
                print(f"running {method} on network {network} ({setting}) ...", file=sys.stderr)
                row = run_one(task) if args.in_process else run_isolated(task)
                print(
                    f"  {method}: AUPR {row['aupr']:.3f}, AUROC {row['auroc']:.3f}, "
                    f"{row['seconds']:.1f} s, +{row['peak_mem_mb']:.0f} MiB",
                    file=sys.stderr,
                )
                rows.append(row)
    if not rows:
        raise SystemExit("nothing to run (kozscore needs --settings all)")
    table = pd.DataFrame(rows, columns=COLUMNS).sort_values(
        ["setting", "network", "method"], kind="stable", ignore_index=True
    )
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print()
    print("AUPR by method and setting x network (mean over the networks run):")
    print(aupr_pivot(table).to_string(float_format=lambda v: f"{v:.3f}", na_rep="-"))
    if args.out is not None:
        table.to_csv(args.out, sep="\t", index=False, float_format="%.6g")
        print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
