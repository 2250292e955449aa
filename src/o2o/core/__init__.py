"""Pure domain core: Python standard library only, no Django, no I/O, no wall clock."""
