"""Entry point of `python -m stack_launcher`."""

import sys

from stack_launcher.cli import main

sys.exit(main())
