"""Pure domain core: the standard library (plus numpy/scipy for optimisation), no Django, no I/O,
no wall clock (callers pass the time in)."""
