"""Crisis Desk: software for a 911 center's on-site social worker program."""

__version__ = "0.1.0"
