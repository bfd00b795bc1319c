"""Import and export: one adaptor per format (COCO, CVAT video, DeepLabCut, CSV, NPZ, Penn Action,
JHMDB), chosen by a registry that also gives file-dialog filters. No Qt here, and no video
access: a writer that puts frame images beside the labels reads them from the reader its caller
opened (``FormatAdaptor.needs_video``).

Use :mod:`annotator.formats.registry` (``get``, ``guess``, ``all_formats``,
``dialog_filters``); each adaptor reads a file into a ``PoseSet`` and writes one out.
``docs/formats.md`` describes every layout and what each format keeps and loses.
"""
