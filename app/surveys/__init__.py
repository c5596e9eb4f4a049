"""Owners' surveys (问卷): the annual property service satisfaction survey and others, anonymous."""
