"""Shipped test support: harnesses, stand-ins and contract mixins.

A town runs them against its own implementations from the installed package (for example
:class:`contact_center.testing.contracts.GruContract` against its GRU connector).
"""
