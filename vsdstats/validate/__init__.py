"""Human validation of the LLM coding: gold tables, comparison, sampling sheets."""
