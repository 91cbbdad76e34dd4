"""R from Python: ``bridge`` (rpy2: checks, evaluation, data frames both ways, R
warnings); ``packages`` (the R libraries needed, from ``scripts/packages.txt``); the R
scripts ship as package data in ``vsdstats/r/scripts``."""

from vsdstats.r.packages import required_libraries, required_packages

__all__ = ["required_libraries", "required_packages"]
