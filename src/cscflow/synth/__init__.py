"""Synthetic county: a simulation of one LA's children's social care and writers for every format.

>>> from cscflow.synth import simulate
>>> county = simulate("tiny", seed=3)
>>> len(county.children) > 0
True
"""

from cscflow.synth.county import County

__all__ = ["County", "simulate", "synthesise"]


def __getattr__(name: str):
    if name == "simulate":
        from cscflow.synth.simulate import simulate

        return simulate
    if name == "synthesise":
        from cscflow.synth.run import synthesise

        return synthesise
    raise AttributeError(name)
