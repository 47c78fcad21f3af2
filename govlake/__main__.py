"""`python -m govlake` is the `govlake` command."""
import sys

from govlake.cli import main

sys.exit(main())
