"""``python -m annotator`` is the same program as ``annotator``."""

from annotator.cli import main

raise SystemExit(main())
