"""The learnable torch dictionary equals the fill engine's numpy one for the same poles."""

from __future__ import annotations

import numpy as np
import torch

from annotator.dynamics.dyan import Poles as NumpyPoles
from annotator.dynamics.dyan import dyan_dictionary
from annotator.proposal.dyan import dictionary


def test_same_poles_same_dictionary() -> None:
    rng = np.random.default_rng(4)
    r = rng.uniform(0.8, 1.15, 7)
    theta = rng.uniform(0.0, np.pi, 7)
    ours = dictionary(torch.from_numpy(r), torch.from_numpy(theta), 40).numpy()
    theirs = dyan_dictionary(NumpyPoles(r, theta), 40)
    assert ours.shape == theirs.shape == (40, 29)
    assert np.allclose(ours, theirs, atol=1e-12)
