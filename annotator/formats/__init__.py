"""Import and export: one adaptor per format (COCO, CVAT video, DeepLabCut, CSV, NPZ, Penn Action,\nJHMDB), chosen by a registry that also gives file-dialog filters. No Qt here."""
