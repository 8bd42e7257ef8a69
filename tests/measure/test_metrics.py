"""KID and ROC-AUC: pure functions on arrays."""

from __future__ import annotations

import numpy as np
import pytest

from mustache.measure.metrics import accuracy, kid, roc_auc


def test_kid_near_zero_for_same_distribution_and_larger_for_different():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(400, 16)), rng.normal(size=(400, 16))
    same = kid(a, b, subsets=20, subset_size=200)
    shifted = kid(a, rng.normal(loc=0.7, size=(400, 16)), subsets=20, subset_size=200)
    assert abs(same.mean) < 0.02
    assert shifted.mean > 10 * max(abs(same.mean), 1e-3)
    assert abs(kid(a, a, subsets=20, subset_size=100).mean) < 0.1 * shifted.mean


def test_kid_checks_shapes_and_uses_smaller_subsets():
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match=r"\(M, D\) and \(N, D\)"):
        kid(rng.normal(size=(10, 4)), rng.normal(size=(10, 5)))
    with pytest.raises(ValueError, match="at least 2"):
        kid(rng.normal(size=(1, 4)), rng.normal(size=(10, 4)))
    assert kid(rng.normal(size=(30, 4)), rng.normal(size=(50, 4)), subsets=3).subset_size == 30


def test_roc_auc_and_accuracy():
    y = np.array([0, 0, 1, 1])
    assert roc_auc(y, np.array([0.1, 0.2, 0.8, 0.9])) == 1.0
    assert roc_auc(y, np.array([0.9, 0.8, 0.2, 0.1])) == 0.0
    assert roc_auc(y, np.array([0.5, 0.5, 0.5, 0.5])) == 0.5  # ties count half
    assert roc_auc(y, np.array([0.1, 0.6, 0.4, 0.9])) == 0.75
    assert np.isnan(roc_auc(np.array([1, 1]), np.array([0.2, 0.3])))
    assert accuracy(y, np.array([0.1, 0.6, 0.4, 0.9])) == 0.5
    with pytest.raises(ValueError, match="equal"):
        roc_auc(y, np.zeros(3))


def test_region_texture_tells_strands_from_a_flat_patch():
    from mustache.measure.metrics import region_texture

    rng = np.random.default_rng(0)
    flat = np.full((2, 32, 32, 3), 90, np.uint8)
    mask = np.zeros((2, 32, 32), np.uint8)
    mask[:, 8:24, 4:28] = 255
    hair = flat.copy()
    hair[1, 8:24, 4:28:2] = 30  # dark vertical strands, one pixel apart
    hair[0] = rng.integers(0, 255, (32, 32, 3))  # noise outside and inside
    t = region_texture(hair, mask)
    assert region_texture(flat, mask).max() < 1e-3
    assert t[1] > 10 and t[0] > 10
    outside_only = flat.copy()
    outside_only[:, :3] = 0  # detail 5 px outside the region does not count
    assert region_texture(outside_only, mask).max() < 1.0
    assert np.isnan(region_texture(flat, np.zeros((2, 32, 32), np.uint8))).all()
    with pytest.raises(ValueError, match=r"got \(2, 32, 32, 3\) and \(2, 16, 32\)"):
        region_texture(flat, mask[:, :16])
