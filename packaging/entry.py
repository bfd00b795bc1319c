"""Entry script of the frozen desktop build (packaging/annotator.spec): the ``annotator``
program, exactly as ``python -m annotator``."""

from annotator.cli import main

raise SystemExit(main())
