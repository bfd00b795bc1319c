"""``annotator bench proposal-speed``: the long-stream memory check runs on features on disk,
and a GPU asked for where there is none is a clear error (the suite never needs a GPU)."""

from __future__ import annotations

import pytest

from annotator.bench import proposal_speed
from annotator.errors import UsageError


def test_long_stream_runs_proposals_on_memory_mapped_features() -> None:
    from annotator.proposal.kfpn import LONG_GRID

    frames = LONG_GRID + 500  # past the streamed-descriptor threshold
    r = proposal_speed.long_stream(frames)
    assert r["frames"] == frames
    assert r["proposed"] == frames // 10
    assert 0 < r["peak_mib"] < 1024


def test_cuda_without_a_gpu_is_a_usage_error() -> None:
    import torch

    if torch.cuda.is_available():
        assert proposal_speed.devices("auto") == ["cpu", "cuda"]
        return
    assert proposal_speed.devices("auto") == ["cpu"]
    with pytest.raises(UsageError, match="no CUDA GPU"):
        proposal_speed.devices("cuda")
