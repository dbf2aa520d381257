"""``python python/installer ...``: run the installer from a source tree or the R package.

Python puts this folder (python/installer) first on sys.path; the package is imported from its
parent (python/), ahead of anything installed under the same name.
"""

import os
import sys

if __package__ in (None, ""):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.path.insert(0, os.path.dirname(here))
    sys.modules.pop("installer", None)
    from installer.cli import main
else:  # python -m installer, with python/ on sys.path
    from .cli import main

sys.exit(main())
