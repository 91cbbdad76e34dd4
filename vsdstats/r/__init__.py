"""R from Python: ``bridge`` (rpy2: checks, evaluation, data frames both ways, R
warnings); the R scripts ship as package data in ``vsdstats/r/scripts``."""
