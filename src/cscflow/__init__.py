"""cscflow: see how children move through children's social care.

>>> import cscflow
>>> isinstance(cscflow.__version__, str)
True

``cscflow.Workspace`` and ``__version__`` are looked up on first use, so that ``import cscflow`` (and
``cscflow --help``) loads neither the engines nor the package metadata.
"""

from typing import TYPE_CHECKING, Any

from cscflow.errors import CscflowError

if TYPE_CHECKING:  # pragma: no cover
    from cscflow.workspace import Workspace

__all__ = ["CscflowError", "Workspace", "__version__"]


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from cscflow.workspace import Workspace

        return Workspace
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("cscflow")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0.0.0"
    raise AttributeError(f"module 'cscflow' has no attribute {name!r}")
