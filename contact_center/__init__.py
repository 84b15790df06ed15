"""The application: the conversation engine and everything around it.

Rooms (each one's docstring says what it holds and what it must not import):

- :mod:`contact_center.conversation`: one resident turn, actions, intake, answers, records.
- :mod:`contact_center.gru`: cases, tracking codes, working days, notices, connector, catalogue.
- :mod:`contact_center.agents`: accounts, sessions, passwords, SSO, audit.
- :mod:`contact_center.handoffs`: queues, the assistant's and the agents' desks, live events.
- :mod:`contact_center.kb_admin`: documents, validated answers, unanswered questions, corrections.
- :mod:`contact_center.web`: the API routes (thin) and the static pages; above the domain rooms.
- :mod:`contact_center.testing`: shipped harnesses, stand-ins and contract mixins.

On the ground of the package: ``settings`` (assembles every section), ``errors``, ``db``,
``metrics``, ``ratelimit``. The composition roots are ``app`` (the app factory, which mounts the
channels), ``cli`` (which reaches every part, eval included) and ``services`` (what the
lifespan builds); only the first two may import a higher floor.

Imports point down: channels → contact_center → knowledge_base / routing → retrieval →
foundation (``tests/test_architecture.py`` checks it).
"""
