"""cscflow: see how children move through children's social care.

>>> import cscflow
>>> isinstance(cscflow.__version__, str)
True
"""

from importlib.metadata import PackageNotFoundError, version

from cscflow.errors import CscflowError
from cscflow.workspace import Workspace

try:
    __version__ = version("cscflow")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["CscflowError", "Workspace", "__version__"]
