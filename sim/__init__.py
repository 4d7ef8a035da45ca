"""sim: agent-based scenario model of China's new industrialization."""

import hashlib
import os
from pathlib import Path

__version__ = "0.1.0"


def _compiled_cache_dir(package: Path = Path(__file__).parent) -> str:
    """Numba caches a compiled rule together with the rules it calls but checks only its own
    file's time stamp, so an edit to a called rule could leave a stale caller in the cache. The
    cache therefore lives in a directory named after a digest of every source file of the package:
    any edit starts a fresh cache."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode())
        digest.update(path.read_bytes())
    return str(package / "__pycache__" / f"numba-{digest.hexdigest()[:16]}")


os.environ.setdefault("NUMBA_CACHE_DIR", _compiled_cache_dir())  # before any rule imports numba
