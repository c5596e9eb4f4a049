"""Quarterly reports to the community party organization and the annual appraisal (seed 002)."""
