"""Run the command line as ``python -m ggzledger``."""

import sys

from ggzledger.interfaces.cli import main

sys.exit(main())
