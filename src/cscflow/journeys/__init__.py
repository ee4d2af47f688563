"""Journeys: process maps, each child's state timeline, animation tracks and flow analytics.

>>> from cscflow.journeys import load_map
>>> load_map("front_door").station_of("contact")
'contact'
"""

from cscflow.journeys.maps import ProcessMap, load_map, parse_map
from cscflow.journeys.timeline import data_end, data_start, timelines
from cscflow.journeys.tracks import Tracks, tracks

__all__ = ["ProcessMap", "Tracks", "data_end", "data_start", "load_map", "parse_map", "timelines", "tracks"]
