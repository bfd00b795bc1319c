"""The gate's price search encodes the video once: ``encode_steps`` then ``step_logits`` per
price gives the whole network's logits, and ``gate_fields`` with a budget runs the
price-free part of the network once, not once per price tried."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from annotator.propagation import gate
from annotator.propagation.gate import encode_steps, new_gate, step_logits


def test_encoded_steps_give_the_networks_logits_at_every_price() -> None:
    model = new_gate(seed=5)
    model.net.eval()
    window = model.config.window
    rng = np.random.default_rng(0)
    steps = rng.normal(size=(window + 7, model.config.channels, 16, 16)).astype(np.float32)
    enc = encode_steps(model, steps)
    for lam in (0.003, 0.05, 0.4):
        with torch.inference_mode():
            whole = model.net(torch.from_numpy(steps[:window])[None], torch.full((1,), lam))
        logits = step_logits(model, enc, lam)
        np.testing.assert_array_equal(logits, step_logits(model, steps, lam))
        # inside the first window (its forced ends aside) the logits are the network's own
        np.testing.assert_allclose(logits[1 : window - 1], whole.numpy()[0, 1:-1], atol=1e-5)


def test_a_budget_search_encodes_once(monkeypatch: pytest.MonkeyPatch) -> None:
    model = new_gate(seed=5)
    model.net.eval()
    calls: list[int] = []
    encode = model.net.encode

    def counted(maps: torch.Tensor) -> torch.Tensor:
        calls.append(int(maps.shape[0]))
        return encode(maps)

    monkeypatch.setattr(model.net, "encode", counted)
    rng = np.random.default_rng(1)
    times = np.arange(90) / 30.0
    maps = rng.random((90, model.config.channels, 16, 16)).astype(np.float32)
    energy = np.zeros(90, dtype=np.float32)
    monkeypatch.setattr(gate, "frame_times", lambda fields, fps: times)
    monkeypatch.setattr(gate, "_maps_and_energy", lambda fields, grid: (maps, energy))
    result = gate.gate_fields(model, object(), budget=9)  # type: ignore[arg-type]
    assert len(result.logits) == 90
    assert len(calls) <= 2  # the full windows, and a shorter last one: once, for all prices
