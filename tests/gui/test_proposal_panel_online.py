"""The app's Proposals panel offers online K-FPN, from the registry, with its own label."""

from __future__ import annotations

from tests.gui.conftest import open_and_wait


def test_the_panel_lists_online_detection(qtbot, window, figure_video) -> None:  # type: ignore[no-untyped-def]
    video, _truth = figure_video
    panel = window.proposals.panel
    open_and_wait(qtbot, window, video)
    index = panel.method.findData("online")
    assert index >= 0
    assert panel.method.itemText(index) == "K-FPN online (online)"
    panel.set_method("online")
    assert panel.chosen_method() == "online"
