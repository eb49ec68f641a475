"""`python -m alma_app.mcp --config .alma/config.yaml [--transport http]`."""

import sys

from alma_app.mcp.server import main

sys.exit(main())
