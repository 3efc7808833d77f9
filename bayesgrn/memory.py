r"""Know the memory a fit needs before it starts.

:func:`plan_memory` adds up, from the problem's shape alone, what an SVI fit holds at its
peak; :func:`check_memory` compares that with what the device has (or a budget given with
``max_memory``) and refuses with the numbers and the options before anything is allocated.

With :math:`n` samples (or the minibatch size :math:`b`), :math:`G` genes, :math:`R`
regulators, :math:`D` posterior draws and element size :math:`s` (4 bytes in float32):

============== ============================================ ===============================
part           size                                         where
============== ============================================ ===============================
data           :math:`n G (s + 1)` (+ host float64 copies)  device (+ host)
parameters     :math:`6 R G s` (4 variational + mask/scale) device
optimiser      :math:`12 R G s` (gradients, Adam moments,   device (+ host recovery copy)
               last-good copy)
activations    :math:`k_W R G s + k_X b G s + 3 R^2 s`      device
guide matrices :math:`(1 + k_C P) G R^2 s` (``"conditional"`` device
               guide only: Gram matrices, and precision
               and Cholesky factors per particle)
draws          :math:`D R G \cdot 4` (+ one chunk of        host (summaries stream over
               working space for edge summaries)            target blocks)
============== ============================================ ===============================

``method="gibbs"`` holds no variational parameters or optimiser state; its working set is
float64 whatever ``dtype``: each target's Gram matrix over the :math:`P = R + C` columns
of the regulators and the :math:`C` condition intercepts, the precision and Cholesky
factor built from it every sweep with their temporaries (:math:`4 G P^2 \cdot 8` at the
peak; building the Gram matrices once at the start needs less), and the draws twice while a
chain's list of draws is stacked (:math:`2 D R G \cdot 4`).

The activation constants :math:`k_W, k_X` count the per-step tensors of the model and guide
and their gradients; they were measured with ``examples/benchmarks/memory_plan.py``, which
prints planned against measured peaks.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

import torch

from bayesgrn.errors import ResourceError

#: per-step tensors of regulator x target shape (guide samples, log-densities, scales, W and
#: their gradients), in units of one R x G array
K_WEIGHTS = 24
#: per-step tensors of minibatch x gene shape (drive, mean, residual, log-density, grads)
K_SAMPLES = 16
#: per-step tensors of targets x regulators x regulators shape in the "conditional" guide
#: (precision, its Cholesky factor and the distribution's scale_tril, with their gradients)
K_CONDITIONAL = 8
#: fraction of the free memory a plan may use (the rest is headroom for the allocator,
#: the Python process and other users)
HEADROOM = 0.85
#: torch, pyro and their libraries once imported (resident set measured on CPU)
BASE_HOST = 400 * 2**20


@dataclass(frozen=True)
class MemoryPlan:
    """Planned peak memory of a fit, in bytes, by part (see the module docstring)."""

    n_samples: int
    batch: int
    n_genes: int
    n_regulators: int
    num_draws: int
    itemsize: int
    device_type: str
    data: int
    parameters: int
    optimizer: int
    activations: int
    draws: int
    host_data: int
    method: str = "svi"

    @property
    def device_bytes(self) -> int:
        """Peak on the fitting device (on the CPU this is host memory too)."""
        return self.data + self.parameters + self.optimizer + self.activations

    @property
    def host_bytes(self) -> int:
        """Peak host memory: the process, host copies of the data, recovery copy, draws."""
        recovery = self.optimizer // 2  # last-good parameters + Adam state, kept on the host
        host = BASE_HOST + self.host_data + self.draws + recovery
        if self.device_type == "cpu":
            host += self.device_bytes
        return host

    def table(self) -> str:
        """Return the plan as an aligned text table."""
        rows = [
            ("data on device", self.data),
            ("variational parameters", self.parameters),
            ("gradients + optimiser", self.optimizer),
            (
                "sampler working set" if self.method == "gibbs" else "activations per step",
                self.activations,
            ),
            ("posterior draws (host)", self.draws),
            ("host copies of the data", self.host_data),
            ("python + torch + pyro", BASE_HOST),
        ]
        lines = [f"  {name:<26}{format_bytes(size):>10}" for name, size in rows]
        if self.device_type != "cpu":
            lines.append(
                f"  {'= peak on ' + self.device_type:<26}{format_bytes(self.device_bytes):>10}"
            )
        lines.append(f"  {'= peak on host':<26}{format_bytes(self.host_bytes):>10}")
        return "\n".join(lines)


def plan_memory(
    n_samples: int,
    n_genes: int,
    n_regulators: int,
    *,
    n_targets: int | None = None,
    subsample_size: int | None = None,
    num_draws: int = 1000,
    num_particles: int = 1,
    dtype: torch.dtype = torch.float32,
    device_type: str = "cpu",
    jacobian: bool = False,
    per_sample_jacobian: bool = False,
    counts: bool = False,
    conditional: bool = False,
    residual_noise: bool = False,
    gibbs: bool = False,
    n_conditions: int = 1,
) -> MemoryPlan:
    """Plan the peak memory of an SVI fit of this shape (see the module docstring).

    ``n_targets`` (default ``n_genes``) is the number of modelled equations, fewer in a
    sharded fit. ``per_sample_jacobian``: the Jacobian term of a nonlinear family, one
    regulators x regulators matrix per sample in the batch (with its LU and gradient).
    ``counts``: the count family, which also holds the raw counts of the targets in float64
    on the device and evaluates its log-pmf in float64. ``conditional``: the
    ``"conditional"`` guide, which keeps each target's regulators x regulators Gram matrix
    and builds a precision matrix and its Cholesky factor per target and particle.
    ``residual_noise``: ``guide.noise = "residual"``, whose guide computes every target's
    residuals over all samples per particle (twice the fitted values' size, with gradients).
    ``gibbs``: the working set of ``method="gibbs"`` instead of SVI's, with
    ``n_conditions`` intercept columns beside the regulators (module docstring).
    """
    if gibbs:
        return _plan_gibbs(n_samples, n_genes, n_regulators, n_targets, num_draws, dtype,
                           device_type, n_conditions)  # fmt: skip
    s = torch.empty((), dtype=dtype).element_size()
    n_tgt = n_genes if n_targets is None else n_targets
    rg = n_regulators * n_tgt
    batch = subsample_size or n_samples
    activations = num_particles * (K_WEIGHTS * rg + K_SAMPLES * batch * n_genes) * s
    if counts:  # float64 log-pmf terms of the batch (lgamma arguments and result)
        activations += num_particles * 4 * batch * n_genes * 8
    if jacobian:
        activations += num_particles * 3 * n_regulators**2 * s
        if per_sample_jacobian:
            activations += num_particles * 4 * batch * n_regulators**2 * s
    if residual_noise:
        activations += num_particles * 2 * n_samples * n_tgt * s
    gram = n_tgt * n_regulators**2 * s if conditional else 0
    activations += num_particles * K_CONDITIONAL * gram
    return MemoryPlan(
        n_samples=n_samples,
        batch=batch,
        n_genes=n_genes,
        n_regulators=n_regulators,
        num_draws=num_draws,
        itemsize=s,
        device_type=device_type,
        data=n_samples * n_genes * (s + 1) + (n_samples * n_tgt * 8 if counts else 0) + gram,
        parameters=6 * rg * s,
        optimizer=12 * rg * s,
        activations=activations,
        # float32 draws + one block of summary working space (see Posterior.edges)
        draws=num_draws * rg * 4 + 2 * min(num_draws * rg * 8, SUMMARY_BLOCK_BYTES),
        # the caller's table, values, standardised and canonical copies: float64 on the host
        host_data=5 * n_samples * n_genes * 8,
    )


def _plan_gibbs(
    n_samples: int,
    n_genes: int,
    n_regulators: int,
    n_targets: int | None,
    num_draws: int,
    dtype: torch.dtype,
    device_type: str,
    n_conditions: int,
) -> MemoryPlan:
    """Plan a Gibbs fit: float64 Gram, precision and Cholesky factors per target."""
    s = torch.empty((), dtype=dtype).element_size()
    n_tgt = n_genes if n_targets is None else n_targets
    rg = n_regulators * n_tgt
    columns = n_regulators + n_conditions
    # Gram, precision, Cholesky factor and solve per target, with the Jacobian step's
    # covariances and host copies of the Gram matrices
    working = 6 * n_tgt * columns**2 * 8 + 12 * rg * 8
    return MemoryPlan(
        n_samples=n_samples,
        batch=n_samples,
        n_genes=n_genes,
        n_regulators=n_regulators,
        num_draws=num_draws,
        itemsize=s,
        device_type=device_type,
        data=n_samples * n_genes * (s + 1 + 8),  # and the sampler's float64 copy
        parameters=0,
        optimizer=0,
        activations=working,
        draws=2 * num_draws * rg * 4 + 2 * min(num_draws * rg * 8, SUMMARY_BLOCK_BYTES),
        host_data=5 * n_samples * n_genes * 8,
        method="gibbs",
    )


#: the edge summaries work through the draws in target blocks of about this size
SUMMARY_BLOCK_BYTES = 256 * 2**20


def available_memory(device: torch.device) -> int:
    """Free memory of ``device`` in bytes (host: MemAvailable capped by a cgroup limit)."""
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    return host_available()


def host_available() -> int:
    """Available host memory: /proc/meminfo's MemAvailable, within any cgroup limit."""
    candidates = []
    try:
        text = Path("/proc/meminfo").read_text()
        match = re.search(r"^MemAvailable:\s+(\d+) kB", text, re.MULTILINE)
        if match:
            candidates.append(int(match.group(1)) * 1024)
    except OSError:
        pass
    for limit_file, usage_file in (
        ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
        (
            "/sys/fs/cgroup/memory/memory.limit_in_bytes",
            "/sys/fs/cgroup/memory/memory.usage_in_bytes",
        ),
    ):
        try:
            limit = Path(limit_file).read_text().strip()
            usage = int(Path(usage_file).read_text().strip())
        except (OSError, ValueError):
            continue
        if limit.isdigit() and int(limit) < 2**60:
            candidates.append(max(int(limit) - usage, 0))
    if not candidates:
        try:
            candidates.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            return 2**62  # unknown: do not refuse
    return min(candidates)


def check_memory(plan: MemoryPlan, device: torch.device, max_memory: int | None = None) -> None:
    """Refuse a fit whose plan exceeds the budget, before anything is allocated.

    Parameters
    ----------
    plan
        From :func:`plan_memory`.
    device
        The fitting device.
    max_memory
        A budget in bytes for the fit's peak (host, and device when that is a GPU);
        default: ``HEADROOM`` of what is free now.

    Raises
    ------
    ResourceError
        With the plan, the budget and what to change.
    """
    checks = [("host", plan.host_bytes, None)]
    if device.type != "cpu":
        checks.append((str(device), plan.device_bytes, device))
    for where, need, dev in checks:
        if max_memory is not None:
            budget, origin = int(max_memory), "the max_memory budget"
        else:
            free = available_memory(dev) if dev is not None else host_available()
            budget, origin = int(HEADROOM * free), f"{HEADROOM:.0%} of the free {where} memory"
        if need > budget:
            raise ResourceError(
                f"this fit needs about {format_bytes(need)} of {where} memory but "
                f"{origin} is {format_bytes(budget)}.\nPlan for {plan.n_samples} samples x "
                f"{plan.n_genes} genes x {plan.n_regulators} regulators "
                f"(minibatch {plan.batch}, {plan.num_draws} draws):\n{plan.table()}\n"
                + (_GIBBS_OPTIONS if plan.method == "gibbs" else _SVI_OPTIONS)
            )


_SVI_OPTIONS = (
    "Options: restrict the candidate regulators (regulators=..., CLI --regulators; W is "
    "regulators x genes), minibatch the samples (subsample_size=..., --subsample-size), keep "
    "fewer posterior draws (svi={'num_draws': ...}), fit on a device with more memory, or "
    "raise the budget (max_memory=..., --max-memory)."
)
_GIBBS_OPTIONS = (
    "Options: restrict the candidate regulators (regulators=..., CLI --regulators; the Gibbs "
    "sampler holds a (regulators x regulators) matrix per target), keep fewer draws "
    "(num_samples=..., --samples), fit with method='svi' (its memory grows with regulators x "
    "genes, not regulators^2 x genes), or raise the budget (max_memory=..., --max-memory)."
)


_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def parse_bytes(text: str | int | float) -> int:
    """Parse a memory size: ``"4G"``, ``"512MiB"``, ``"1.5gb"`` or a number of bytes."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        if text <= 0 or not math.isfinite(text):
            raise ValueError(f"a memory size must be positive, got {text!r}")
        return int(text)
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(?:i?b)?\s*", str(text), re.IGNORECASE)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(
            f"cannot read the memory size {text!r}; write e.g. 4G, 512M, 1.5GiB or a number "
            "of bytes"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def format_bytes(size: int) -> str:
    """Human-readable size in binary units."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
