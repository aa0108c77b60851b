"""Entry script of the frozen application: the same ``cxviewer`` command as the installed one."""

import multiprocessing
import sys

from cxviewer.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # harmless when nothing spawns; required if a library does (Windows)
    sys.exit(main())
