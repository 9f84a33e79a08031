"""feedsvc: turn news sites into Atom, RSS and JSON feeds."""

__version__ = "0.1.0"
