"""``python -m nncore``: the same commands as the ``nncore`` script."""

import sys

from .cli import main

sys.exit(main())
