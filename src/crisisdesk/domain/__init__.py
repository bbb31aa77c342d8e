"""Pure domain rules: no Django, no database, no I/O.

Every decision function returns a small frozen dataclass carrying the outcome, the machine-readable
reasons and the version of the rules that produced it.
"""
