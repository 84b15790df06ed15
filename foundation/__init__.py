"""The ground floor: what every other package may use, and which imports none of them.

- :mod:`foundation.errors`: the base of the exception tree and the lower floors' errors.
- :mod:`foundation.french`: French text folding, words and phrase matching (one version).
- :mod:`foundation.model_assets`: models assembled from their packages, checked by sha256.

It must not import ``contact_center``, ``channels``, ``retrieval``, ``routing``,
``knowledge_base`` or ``eval``.
"""
