"""Evaluation: datasets, metrics, runners and reports (``contact-center eval ...``).

The top floor: it measures every part and may import all of them; nothing imports ``eval``
except the CLI (:mod:`contact_center.cli`).
"""
