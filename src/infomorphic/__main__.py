"""``python -m infomorphic``: the command-line interface (see ``infomorphic.cli``)."""

import sys

from infomorphic.cli import main

sys.exit(main())
