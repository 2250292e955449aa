"""o2o: one inventory, one member and one order center for online and in-store retail."""

__version__ = "0.1.0"
