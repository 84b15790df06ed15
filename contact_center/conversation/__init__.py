"""The conversation: one resident turn, whatever the channel.

- :mod:`.engine`: the turn (input checks, routing, handoff policy, actions, grounded answer).
- :mod:`.turns`: the events a turn emits, and turns in progress.
- :mod:`.actions` and :mod:`.intake`: filing a case, status questions, other administrations.
- :mod:`.replies`: grounded answers and the French replies of actions.
- :mod:`.store`, :mod:`.schema`: conversations, messages, explanation records in the database.
- :mod:`.redaction`: personal data out of records and logs.

May import the other rooms of ``contact_center`` below the web layer, and the lower floors
(``retrieval``, ``routing``, ``knowledge_base``, ``foundation``); never ``channels``, ``eval``
or :mod:`contact_center.web`.
"""
