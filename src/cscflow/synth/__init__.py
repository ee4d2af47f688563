"""Synthetic county: a simulation of one LA's children's social care and writers for every format."""

from cscflow.synth.county import County

__all__ = ["County"]
