"""Motion-vector joint propagation and the residual-driven gate (MAPN) on top of the codec's
motion fields (``video.motion``): carry labelled joints to the frames in between, and decide
which frames a person should label."""
