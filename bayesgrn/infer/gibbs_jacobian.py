r"""The weight step of :mod:`bayesgrn.infer.gibbs` when the likelihood carries the Jacobian.

With clamped regulators (knockouts, knockdowns) the default likelihood multiplies the
per-target regressions by the Jacobian of the structural equations,

.. math::

    J(W) = \prod_s \bigl|\det (I - W_{RR})_{U_s U_s}\bigr|,

over each sample's unclamped regulators :math:`U_s`. It couples the targets, so the weights
are no longer a set of independent regressions. The sampler keeps the blocked Gibbs sweep and
updates the regulators' columns one at a time by Metropolis-Hastings, which leaves the exact
posterior invariant.

**The determinant is linear in one column.** Replacing column :math:`r` of
:math:`B = I - W_{RR}` (the weights into regulator :math:`r`, :math:`w`) by :math:`w'`
multiplies :math:`\det B` by

.. math::

    \rho(w') = (B^{-1})_{rr} - \sum_i (B^{-1})_{ri}\, w'_i = g_0 - z(w'), \qquad
    z(w') = g^\top w',

(matrix determinant lemma; :math:`\rho = 1` at the current column). Under the regression
conditional :math:`w \sim \mathcal N(m, \Sigma)` (the no-Jacobian step of the sweep), the
unclamped samples' factor :math:`|\rho|^{n_0}` therefore depends on :math:`w` only through
the scalar :math:`z`. The proposal draws :math:`z'` from a fine piecewise-constant
approximation of its tilted density

.. math::

    f(z) \propto \mathcal N(z; g^\top m, g^\top \Sigma g)\, |g_0 - z|^{n_0},

which has one log-concave mode on each side of the singular point :math:`z = g_0`, at
:math:`z_\pm = \tfrac12\bigl(g_0 + \mu \pm \sqrt{(g_0 - \mu)^2 + 4 n_0 v}\bigr)`; then
:math:`w' \mid z'` exactly from the Gaussian conditioned on :math:`g^\top w' = z'`. The
acceptance ratio holds what the proposal leaves out: the clamped samples' determinants
(few samples per clamp pattern) and the grid's discretisation, so acceptance stays high.
A small share of proposals come from the untilted Gaussian, which keeps the proposal's
support the whole line.

**Swapping the arms of a two-way pair.** Column updates move one target's weights at a
time, so a chain that has taken ``a → b`` for a pair whose direction the knockouts leave
open reaches ``b → a`` only through states with neither edge or both, which the likelihood
and the horseshoe penalise. Every sweep therefore also offers each regulator pair
:math:`(a, b)` with :math:`\max(|W_{ab}|, |W_{ba}|)` above 0.1 the deterministic involution
that exchanges :math:`(W_{ab}, \lambda^2_{ab}, \nu_{ab})` with
:math:`(W_{ba}, \lambda^2_{ba}, \nu_{ba})`, accepted with the full posterior ratio (the two
targets' Gaussian likelihoods, the weights' and scales' priors, the Jacobian). The set of
pairs offered is unchanged by the swap itself, so each move leaves the posterior invariant.
On a 10-gene ``bayesgrn.simulate`` network (seed 1001), two chains without it settled in
opposite arms of a two-cycle and agreed on 90% of pairs (docs/model.md).

Targets that are not regulators do not enter :math:`J`; their columns are drawn from the
regression conditional as without the Jacobian.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from bayesgrn.model import ModelInputs

#: cells of the proposal grid on each side of the singular point
_GRID_CELLS = 128
#: half-width of each side's grid in local standard deviations
_GRID_SDS = 10.0
#: share of proposals drawn from the untilted Gaussian (keeps the support the whole line)
_DEFENSIVE = 0.02
#: a two-way pair is offered the swap move when either of its weights is this large
_SWAP_THRESHOLD = 0.1


class JacobianWeightStep:
    """Metropolis-Hastings update of the regulators' weight columns (module docstring).

    The sequential loop over regulators (one column, then one pair, at a time) works on
    float64 numpy arrays, where torch's per-call overhead would dominate; its random numbers
    come from torch's generator, so a seeded fit repeats exactly.
    """

    def __init__(
        self,
        inputs: ModelInputs,
        gram: torch.Tensor,
        cross: torch.Tensor,
        yy: torch.Tensor,
        n_obs: torch.Tensor,
        local2: torch.Tensor,
        noise_scale: float,
    ) -> None:
        assert inputs.jacobian_targets is not None
        assert inputs.clamped_regulators is not None
        self.targets = inputs.jacobian_targets.cpu().numpy()  # (R,) column of each regulator
        clamped = inputs.clamped_regulators.cpu().numpy()  # (S, k_max)
        free = (clamped < 0).all(1)
        self.n_free = float(free.sum())
        # distinct clamp patterns (rows of regulators, padded with -1) and their sample counts
        if clamped.shape[1] == 0 or free.all():
            clamped = np.full((1, 1), -1, dtype=np.int64)  # no clamps: one empty pattern, n = 0
            free = np.ones(1, dtype=bool)
        self.patterns, counts = np.unique(clamped[~free], axis=0, return_counts=True)
        self.counts = counts.astype(np.float64)
        self.n_samples = self.n_free + float(self.counts.sum())  # every sample carries det B
        self.pad = self.patterns < 0  # (n_patterns, k_max)
        self.pad_square = self.pad[:, :, None] | self.pad[:, None, :]
        self.pad_eye = np.broadcast_to(np.eye(clamped.shape[1]), self.pad_square.shape)
        self.is_regulator_column = np.zeros(inputs.n_targets, dtype=bool)
        self.is_regulator_column[self.targets] = True
        self.accepted = 0.0
        self.proposed = 0
        self.swaps_accepted = 0.0
        self.swaps_proposed = 0
        # per target over its unperturbed samples: Gram matrix of its design, design' y,
        # y' y and the number of samples
        self.gram, self.cross = gram.cpu().numpy(), cross.cpu().numpy()  # (T, P, P), (T, P)
        self.yy, self.n_obs = yy.cpu().numpy(), n_obs.cpu().numpy()  # (T,), (T,)
        self.noise_scale = noise_scale
        self.local2 = local2.cpu().numpy()  # (R, T)
        allowed = (inputs.allowed.cpu().numpy() > 0)[:, self.targets]  # (R, R)
        self.two_way = np.triu(allowed & allowed.T, 1)

    def log_jacobian_total(self, w: np.ndarray) -> float:
        r""":math:`\log J(W)` over all samples, up to a constant (``-inf`` where singular)."""
        block = np.eye(len(self.targets)) - w[:, self.targets]
        sign, logdet = np.linalg.slogdet(block)
        if sign == 0.0:
            return -math.inf
        return self.n_samples * logdet + self.log_clamped(np.linalg.inv(block))

    def log_clamped(self, binv: np.ndarray) -> float:
        r"""Sum of the clamped samples' :math:`\log|\det B_{-K,-K}| - \log|\det B|`.

        By Jacobi's identity :math:`\det B_{-K,-K} = \det B \cdot \det (B^{-1})_{KK}`.
        """
        if not len(self.counts):
            return 0.0
        index = np.where(self.pad, 0, self.patterns)
        sub = binv[index[:, :, None], index[:, None, :]]  # (n_patterns, k_max, k_max)
        sub = np.where(self.pad_square, self.pad_eye, sub)  # padding becomes identity
        return float(self.counts @ np.linalg.slogdet(sub)[1])

    def log_jacobian_change(
        self,
        binv: np.ndarray,
        log_clamped: float,
        r: int,
        old: np.ndarray,
        new: np.ndarray,
    ) -> tuple[float, np.ndarray, float] | None:
        r"""Change of :math:`\log J` when regulator ``r``'s weight column goes ``old -> new``.

        Returns the change, :math:`(B')^{-1}` (Sherman-Morrison: :math:`B' = B + u e_r^\top`
        with :math:`u` = ``old - new``, :math:`\det B' = \rho \det B`,
        :math:`\rho = 1 + (B^{-1} u)_r`) and the new :meth:`log_clamped`; None where
        :math:`B'` is singular. Every sample's :math:`\det B` moves by :math:`\rho`; the
        clamped ones' :math:`\det (B^{-1})_{KK}` terms are recomputed.
        """
        step = old - new
        rho = 1.0 + binv[r] @ step
        if rho == 0.0:
            return None
        binv_new = binv - np.outer(binv @ step, binv[r]) / rho
        log_clamped_new = self.log_clamped(binv_new)
        change = self.n_samples * math.log(abs(rho)) + log_clamped_new - log_clamped
        return change, binv_new, log_clamped_new

    def update(
        self,
        w: torch.Tensor,
        b: torch.Tensor,
        draw: torch.Tensor,
        mean: torch.Tensor,
        chol: torch.Tensor,
        excluded: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the new ``(W, b)`` given the regression conditional of every target.

        ``draw`` ``(P, T)`` is a draw from each target's Gaussian conditional without the
        Jacobian, ``mean`` ``(P, T)`` its mean and ``chol`` ``(T, P, P)`` the Cholesky
        factor of its precision.
        """
        n_reg = w.shape[0]
        plain = torch.as_tensor(~self.is_regulator_column, device=w.device)
        w = torch.where(plain, torch.where(excluded, 0.0, draw[:n_reg]), w)
        b = torch.where(plain, draw[n_reg:], b)
        cols = torch.as_tensor(self.targets, device=w.device)
        # Sigma_t restricted to the regulator rows, for the regulators' target columns
        cov = torch.cholesky_inverse(chol.index_select(0, cols))[:, :, :n_reg]  # (R, P, R)
        w_np, b_np = w.cpu().numpy().copy(), b.cpu().numpy().copy()
        draw_np, mean_np = draw.cpu().numpy(), mean.cpu().numpy()
        cov_np, excl = cov.cpu().numpy(), excluded.cpu().numpy()
        # uniforms: accept, defensive choice, cell, within cell; normals: defensive draw
        uniforms = torch.rand((n_reg, 4), dtype=w.dtype).numpy()
        normals = torch.randn((n_reg,), dtype=w.dtype).numpy()
        binv = np.linalg.inv(np.eye(n_reg) - w_np[:, self.targets])
        log_clamped = self.log_clamped(binv)
        for r in range(n_reg):
            t = self.targets[r]
            g = binv[r]  # (R,) ; rho(w') = g[r] - g @ w'
            g0 = g[r]
            sigma_g = cov_np[r] @ g  # (P,) Sigma g
            var = float(g @ sigma_g[:n_reg])
            base = draw_np[:, t]
            if self.n_free == 0.0 or var <= 0.0:
                z_new, log_q_ratio = float(g @ base[:n_reg]), 0.0
            else:
                z_new, log_q_ratio = self._propose_z(
                    float(g @ mean_np[:n_reg, t]),
                    var,
                    g0,
                    float(g @ w_np[:, t]),
                    uniforms[r, 1:],
                    normals[r],
                )
            coef = base + sigma_g * (z_new - g @ base[:n_reg]) / var if var > 0.0 else base
            w_col = np.where(excl[:, t], 0.0, coef[:n_reg])
            self.proposed += 1
            change = self.log_jacobian_change(binv, log_clamped, r, w_np[:, t], w_col)
            if change is None:  # a singular proposal: zero density
                continue
            log_ratio, binv_new, log_clamped_new = change
            log_ratio += log_q_ratio
            if math.log(uniforms[r, 0]) < log_ratio:
                self.accepted += 1.0
                w_np[:, t], b_np[:, t] = w_col, coef[n_reg:]
                binv, log_clamped = binv_new, log_clamped_new
        like = {"dtype": w.dtype, "device": w.device}
        return torch.as_tensor(w_np, **like), torch.as_tensor(b_np, **like)

    def _propose_z(
        self,
        mu: float,
        var: float,
        g0: float,
        current: float,
        uniforms: np.ndarray,
        normal: float,
    ) -> tuple[float, float]:
        r"""Draw :math:`z'` and return it with :math:`\log [N_1(z') q(z) / (N_1(z) q(z'))]`.

        :math:`q` is the mixture of the grid approximation of :math:`f` (weight
        :math:`1 - \epsilon`) and the untilted :math:`N_1 = \mathcal N(\mu, v)`;
        ``uniforms`` pick the component, the cell and the point in the cell.
        """
        n = self.n_free
        root = math.sqrt((g0 - mu) ** 2 + 4.0 * n * var)
        unit = np.linspace(0.0, 1.0, _GRID_CELLS + 1)
        edges = []
        for mode, side in ((0.5 * (g0 + mu - root), -1.0), (0.5 * (g0 + mu + root), 1.0)):
            local_sd = 1.0 / math.sqrt(1.0 / var + n / (g0 - mode) ** 2)
            lo, hi = mode - _GRID_SDS * local_sd, mode + _GRID_SDS * local_sd
            lo, hi = (lo, min(hi, g0)) if side < 0 else (max(lo, g0), hi)
            edges.append(lo + unit * (hi - lo))
        left, right = edges
        starts = np.concatenate([left[:-1], right[:-1]])
        width = np.concatenate([np.diff(left), np.diff(right)])
        mid = starts + 0.5 * width
        log_f = -0.5 * (mid - mu) ** 2 / var + n * np.log(np.abs(g0 - mid))
        log_mass = log_f + np.log(width)
        top = log_mass.max()
        mass = np.exp(log_mass - top)
        log_norm = top + math.log(mass.sum())

        def log_q(z: float) -> float:
            """Log q(z) - log N_1(z)."""
            log_n1 = -0.5 * (z - mu) ** 2 / var - 0.5 * math.log(2.0 * math.pi * var)
            grid = -math.inf
            for k, e in enumerate((left, right)):
                if e[0] <= z < e[-1]:
                    cell = k * _GRID_CELLS + int(np.searchsorted(e, z, side="right")) - 1
                    grid = log_f[cell] - log_norm
            return (
                float(np.logaddexp(math.log1p(-_DEFENSIVE) + grid, math.log(_DEFENSIVE) + log_n1))
                - log_n1
            )

        if uniforms[0] < _DEFENSIVE:
            z_new = mu + math.sqrt(var) * normal
        else:
            cdf = np.cumsum(mass)
            cell = min(int(np.searchsorted(cdf, uniforms[1] * cdf[-1])), len(cdf) - 1)
            z_new = float(starts[cell] + width[cell] * uniforms[2])
        return z_new, log_q(current) - log_q(z_new)

    def swap_pairs(self, state: Any) -> None:
        """Offer every two-way pair with a sizeable arm the swap move (module docstring)."""
        like = {"dtype": state.w.dtype, "device": state.w.device}
        w = state.w.cpu().numpy().copy()
        w_rr = np.abs(w[:, self.targets])
        pairs = np.argwhere(self.two_way & (np.maximum(w_rr, w_rr.T) > _SWAP_THRESHOLD))
        if not len(pairs):
            return
        lam2, nu = state.lam2.cpu().numpy().copy(), state.nu.cpu().numpy().copy()
        b, sigma2 = state.b.cpu().numpy(), state.sigma2.cpu().numpy().copy()
        tau2, c2 = state.tau2.cpu().numpy(), state.c2.cpu().numpy()
        kappa2 = state.kappa2.cpu().numpy()[:, 0]
        uniforms = torch.rand(len(pairs), dtype=torch.float64).numpy()
        log_jac = self.log_jacobian_total(w)

        def log_entry(r: int, t: int, weight: float, l2: float, aux: float) -> float:
            """Log prior of one weight and its local scale (lambda^2 | nu, nu)."""
            var = 1.0 / (1.0 / (tau2[t] * kappa2[r] * l2) + 1.0 / c2[t])
            return (
                -0.5 * (weight * weight / var + math.log(var))
                - 0.5 * math.log(aux)
                - 1.5 * math.log(l2)
                - 1.0 / (aux * l2)
                - 1.5 * math.log(aux)
                - 1.0 / (self.local2[r, t] * aux)
            )

        def rss(w: np.ndarray, t: int) -> float:
            """Target t's residual sum of squares over its unperturbed samples."""
            coef = np.concatenate([w[:, t], b[:, t]])
            return float(coef @ self.gram[t] @ coef - 2.0 * self.cross[t] @ coef + self.yy[t])

        for (a, c), u in zip(pairs, uniforms, strict=True):
            ta, tc = self.targets[a], self.targets[c]  # entries (a, tc) and (c, ta)
            old = log_entry(a, tc, w[a, tc], lam2[a, tc], nu[a, tc]) + log_entry(
                c, ta, w[c, ta], lam2[c, ta], nu[c, ta]
            )
            new = log_entry(a, tc, w[c, ta], lam2[c, ta], nu[c, ta]) + log_entry(
                c, ta, w[a, tc], lam2[a, tc], nu[a, tc]
            )
            proposal = w.copy()
            proposal[a, tc], proposal[c, ta] = w[c, ta], w[a, tc]
            # each target's sigma^2 scales with its RSS, so RSS / sigma^2 is unchanged: the
            # likelihood moves by -(n/2) log ratio, the prior v^(-1/2) exp(-v / 2s^2) by
            # -(1/2) log ratio - dv / 2s^2, and the log-scale Jacobian adds log ratio
            sigma2_new = sigma2.copy()
            change = 0.0
            for t in (ta, tc):
                log_scale = math.log(rss(proposal, t) / rss(w, t))
                sigma2_new[t] = sigma2[t] * math.exp(log_scale)
                change += (0.5 - 0.5 * self.n_obs[t]) * log_scale
                change -= (sigma2_new[t] - sigma2[t]) / (2.0 * self.noise_scale**2)
            log_jac_new = self.log_jacobian_total(proposal)
            log_ratio = new - old + change + log_jac_new - log_jac
            self.swaps_proposed += 1
            if math.log(u) < log_ratio:
                self.swaps_accepted += 1.0
                w, log_jac, sigma2 = proposal, log_jac_new, sigma2_new
                for arr in (lam2, nu):
                    arr[a, tc], arr[c, ta] = arr[c, ta], arr[a, tc]
        state.w = torch.as_tensor(w, **like)
        state.lam2 = torch.as_tensor(lam2, **like)
        state.nu = torch.as_tensor(nu, **like)
        state.sigma2 = torch.as_tensor(sigma2, **like)
