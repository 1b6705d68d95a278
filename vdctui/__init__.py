"""vdctui: a terminal operator console for a virtualized data center."""

__version__ = "0.1.0"
