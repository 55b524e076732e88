"""`python -m lapor.restore`."""

import sys

from lapor.restore import main

sys.exit(main())
