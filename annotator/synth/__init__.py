"""Generators of videos with exact ground truth: Penn Action labels rendered as people
(``render*``, for the label-efficiency benchmarks), textured scenes with known motion
(``motion``, for the motion-field tests and benchmark) and a walking stick figure (``figure``,
for the GUI tests and benchmark). Tests and benchmarks both use them; nothing else does.
Built on ``core`` only (plus NumPy, OpenCV and PyAV)."""
