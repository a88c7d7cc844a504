"""``python -m govern.cli``: the `govern` command."""

import sys

from govern.cli import main

sys.exit(main())
