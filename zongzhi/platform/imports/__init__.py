"""Day-one imports of a county's master data and registry (``zongzhi import ...``).

Each import reads its whole file, validates every row against the database and the file itself, and
writes nothing when any row is bad: the report names each bad row and field. A good file is written
in one transaction, idempotently on its codes (a second run of the same file changes nothing), and
the import is one audit row with what it created and updated.
"""

from zongzhi.platform.imports.common import ImportRefused, ImportReport, Problem

__all__ = ["ImportRefused", "ImportReport", "Problem"]
