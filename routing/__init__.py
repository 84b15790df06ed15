"""Which municipal service handles a request, and when a person must take over.

- :mod:`routing.service_definitions`: municipal services and other administrations, as data.
- :mod:`routing.classifier`, :mod:`routing.text_model`: the request classifier (calibrated).
- :mod:`routing.handoff`: the handoff policy (request, complaint, distress; after a turn).
- :mod:`routing.evaluate`: its held-out evaluation.
- :mod:`routing.settings`: its settings section (``CC_ROUTING__*``).

May import :mod:`retrieval` (sentence encoders) and :mod:`foundation`; never
``contact_center``, ``channels``, ``knowledge_base`` or ``eval``.
"""
