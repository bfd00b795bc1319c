"""The torch dictionary (learning) equals the fills' numpy one (live path) for the same poles."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from annotator.dynamics.dyan import Poles, dyan_dictionary
from annotator.dynamics.dyan_torch import dictionary


@pytest.mark.parametrize("mirrored", [True, False])
def test_same_poles_same_dictionary(mirrored: bool) -> None:
    rng = np.random.default_rng(4)
    r = rng.uniform(0.8, 1.15, 7)
    theta = rng.uniform(0.0, np.pi, 7)
    ours = dictionary(torch.from_numpy(r), torch.from_numpy(theta), 40, mirrored).numpy()
    theirs = dyan_dictionary(Poles(r, theta, mirrored=mirrored), 40)
    assert ours.shape == theirs.shape == (40, 29 if mirrored else 15)
    np.testing.assert_allclose(ours, theirs, atol=1e-12)
