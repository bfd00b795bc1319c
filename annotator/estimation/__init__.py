"""Pose estimators that guess every joint of a frame, so the user corrects instead of places.

A registry of estimators by name (``registry.py``; ``blazepose`` is the default): Google's
BlazePose, run offline from the two ``.tflite`` files shipped in ``models/``. The pipeline is
split into small pure pieces (SSD anchors, detection decoding, ROI geometry, landmark
decoding, the one-euro ROI filter) that are tested on their own; ``blazepose.py`` composes
them and ``runtime.py`` holds the only import of the model runtime (done lazily, so the app
starts fast). ``mapping.py`` turns BlazePose's 33 landmarks into the built-in skeletons.
"""
