"""``python -m zongzhi.platform.cli``: the ``zongzhi`` command (tests run it this way)."""

import sys

from zongzhi.platform.cli import main

sys.exit(main())
