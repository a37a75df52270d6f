"""Run the command line as ``python -m ggzledger``."""

import sys

from ggzledger.cli import main

sys.exit(main())
