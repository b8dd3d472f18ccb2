"""`python -m modelcatalog_client`: the `modelcatalog` command."""

import sys

from modelcatalog_client.cli import main

sys.exit(main())
