"""``python -m zongzhi.platform.wiring.cli``: the ``zongzhi`` command (tests run it this way)."""

import sys

from zongzhi.platform.wiring.cli import main

sys.exit(main())
