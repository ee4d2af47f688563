"""Synthetic county: a simulation of one LA's children's social care and writers for every format.

>>> from cscflow.synth import simulate
>>> county = simulate("tiny", seed=3)
>>> len(county.children) > 0
True
"""

from cscflow.synth.county import County
from cscflow.synth.run import synthesise  # noqa: I001  (after simulate: run imports it)
from cscflow.synth.simulate import simulate

__all__ = ["County", "simulate", "synthesise"]
