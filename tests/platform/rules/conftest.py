import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# The virtualenv does not install the project; make `import zongzhi` work when pytest is run as
# `.venv/bin/pytest` (a `pythonpath = ["."]` pytest option in pyproject.toml would make this moot).
_ROOT = str(Path(__file__).resolve().parents[3])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

settings.register_profile(
    "rules",
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
