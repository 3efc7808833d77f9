"""Interruption and resume, divergence recovery, and invariance to gene/sample order."""

from __future__ import annotations

import functools
import os
import signal

import numpy as np
import pytest
from scipy.stats import spearmanr

import bayesgrn as bg
from bayesgrn.errors import CheckpointError, FitDivergedError, FitInterrupted
from bayesgrn.infer import svi as svi_module

STEPS = 300


@pytest.fixture(scope="module")
def reference(tiny_sim):
    """An uninterrupted fit every test below compares against."""
    return bg.fit(tiny_sim.data, seed=4, num_steps=STEPS, checkpoint_every=50)


def _with_callback(monkeypatch, callback):
    """Make :func:`bayesgrn.fit` call ``run_svi`` with a per-step callback."""
    monkeypatch.setattr(
        svi_module, "run_svi", functools.partial(svi_module.run_svi, callback=callback)
    )


def test_sigterm_at_random_step_then_resume_equals_uninterrupted(
    tiny_sim, reference, tmp_path, monkeypatch
):
    kill_at = int(np.random.default_rng(2026).integers(1, STEPS - 1))
    ckpt = tmp_path / "fit.ckpt"

    def sigterm(step, guide):
        if step == kill_at:
            os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    with monkeypatch.context() as patch:
        _with_callback(patch, sigterm)
        with pytest.raises(FitInterrupted, match="SIGTERM") as info:
            bg.fit(
                tiny_sim.data,
                seed=4,
                num_steps=STEPS,
                checkpoint=ckpt,
                checkpoint_every=50,
                handle_signals=True,
            )
    assert signal.getsignal(signal.SIGTERM) is previous, "the handler must be restored"
    assert info.value.step == kill_at + 1
    assert ckpt.is_file()
    resumed = bg.fit(
        tiny_sim.data, seed=4, num_steps=STEPS, checkpoint=ckpt, checkpoint_every=50, resume=True
    )
    assert resumed.diagnostics["resumed_from_step"] == kill_at + 1
    np.testing.assert_array_equal(resumed.losses, reference.losses)
    np.testing.assert_allclose(resumed.w_draws, reference.w_draws, atol=1e-5, rtol=0)
    a, b = reference.edges(), resumed.edges()
    assert a[["regulator", "target"]].equals(b[["regulator", "target"]])


def test_resume_refuses_a_checkpoint_from_another_fit(tiny_sim, tmp_path):
    ckpt = tmp_path / "fit.ckpt"
    bg.fit(tiny_sim.data, seed=4, num_steps=60, checkpoint=ckpt, checkpoint_every=20)
    with pytest.raises(CheckpointError, match="different fit"):
        bg.fit(tiny_sim.data, seed=5, num_steps=60, checkpoint=ckpt, resume=True)


def test_resume_without_or_with_a_corrupt_checkpoint(tiny_sim, tmp_path):
    missing = tmp_path / "none.ckpt"
    with pytest.raises(CheckpointError, match="no checkpoint"):
        bg.fit(tiny_sim.data, num_steps=10, checkpoint=missing, resume=True)
    corrupt = tmp_path / "bad.ckpt"
    corrupt.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable bayesgrn checkpoint"):
        bg.fit(tiny_sim.data, num_steps=10, checkpoint=corrupt, resume=True)
    with pytest.raises(ValueError, match="needs checkpoint"):
        bg.fit(tiny_sim.data, num_steps=10, resume=True)


def test_nan_gradient_restarts_from_last_good_state_and_finishes(tiny_sim, reference, monkeypatch):
    injected = []

    def poison_once(step, guide):
        if step == 170 and not injected:
            injected.append(step)
            next(guide.parameters()).grad.view(-1)[0] = float("nan")

    _with_callback(monkeypatch, poison_once)
    post = bg.fit(tiny_sim.data, seed=4, num_steps=STEPS, checkpoint_every=50)
    (restart,) = post.diagnostics["restarts"]
    assert restart["step"] == 170
    assert restart["restart_from"] == 150
    assert restart["lr"] < reference.spec["svi"]["lr"]
    assert post.diagnostics["steps"] == STEPS
    assert np.isfinite(post.w_draws).all()
    # same answer as the undisturbed fit up to SVI noise
    rho = spearmanr(post.edges()["p_edge"], reference.edges()["p_edge"]).statistic
    assert rho > 0.8


def test_persistent_nan_stops_with_a_message_naming_the_causes(tiny_sim, monkeypatch):
    def poison(step, guide):
        if step >= 30:
            next(guide.parameters()).grad.view(-1)[0] = float("inf")

    _with_callback(monkeypatch, poison)
    with pytest.raises(FitDivergedError, match="restarted 2 time") as info:
        bg.fit(tiny_sim.data, num_steps=100, checkpoint_every=10, svi={"max_restarts": 2})
    message = str(info.value)
    assert "scale of the data" in message
    assert "learning rate" in message


def _permuted(data: bg.ExpressionData, seed: int) -> bg.ExpressionData:
    rng = np.random.default_rng(seed)
    genes = rng.permutation(data.n_genes)
    samples = rng.permutation(data.n_samples)
    frame = data.to_frame().iloc[samples, genes]
    return bg.ExpressionData.from_array(
        frame,
        perturbed=data.perturbed[np.ix_(samples, genes)],
        perturbation=[data.perturbation[i] for i in samples],
        condition=[data.condition[i] for i in samples],
        regulators=list(data.regulators),
    )


def test_permuting_genes_and_samples_gives_the_same_edges(small_sim):
    data = small_sim.data
    a = bg.fit(data, seed=1, num_steps=400).edges()
    b = bg.fit(_permuted(data, 7), seed=1, num_steps=400).edges()
    assert a[["regulator", "target"]].head(50).equals(b[["regulator", "target"]].head(50))
    merged = a.merge(b, on=["regulator", "target"])
    assert len(merged) == len(a)
    assert spearmanr(merged["p_edge_x"], merged["p_edge_y"]).statistic >= 0.99
    np.testing.assert_allclose(merged["mean_x"], merged["mean_y"], atol=1e-5)


def test_renaming_conditions_order_does_not_matter(tiny_sim):
    """Two conditions listed in opposite first-seen order give the same intercepts."""
    data = tiny_sim.data
    labels = np.where(np.arange(data.n_samples) % 2 == 0, "batchA", "batchB")
    first = bg.ExpressionData.from_array(
        data.to_frame(), perturbed=data.perturbed, condition=list(labels)
    )
    flipped = _permuted(first, 3)
    pa = bg.fit(first, seed=2, num_steps=100)
    pb = bg.fit(flipped, seed=2, num_steps=100)
    order = [flipped.conditions.index(c) for c in first.conditions]
    cols = [flipped.genes.index(g) for g in first.genes]
    np.testing.assert_allclose(pa.site_means["b"], pb.site_means["b"][order][:, cols], atol=1e-6)


@pytest.mark.gpu
def test_resume_on_cuda_equals_uninterrupted(tiny_sim, tmp_path, monkeypatch):
    ref = bg.fit(tiny_sim.data, seed=4, num_steps=STEPS, device="cuda", checkpoint_every=50)
    ckpt = tmp_path / "fit.ckpt"

    def sigterm(step, guide):
        if step == 120:
            os.kill(os.getpid(), signal.SIGTERM)

    with monkeypatch.context() as patch:
        _with_callback(patch, sigterm)
        with pytest.raises(FitInterrupted):
            bg.fit(
                tiny_sim.data,
                seed=4,
                num_steps=STEPS,
                device="cuda",
                checkpoint=ckpt,
                checkpoint_every=50,
                handle_signals=True,
            )
    resumed = bg.fit(
        tiny_sim.data,
        seed=4,
        num_steps=STEPS,
        device="cuda",
        checkpoint=ckpt,
        checkpoint_every=50,
        resume=True,
    )
    np.testing.assert_allclose(resumed.w_draws, ref.w_draws, atol=1e-5, rtol=0)
