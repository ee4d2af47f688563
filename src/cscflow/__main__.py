"""``python -m cscflow``: the same command line as ``cscflow``, for a PC whose scripts folder is not on PATH
(as on many locked-down Windows PCs)."""

from cscflow.cli import main

if __name__ == "__main__":
    main()
