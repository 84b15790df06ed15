"""Agents: accounts, roles and service memberships, passwords, sessions, SSO, audit log.

- :mod:`.accounts`, :mod:`.schema`, :mod:`.passwords`: who an agent is and what they may see.
- :mod:`.sessions`, :mod:`.authentication`, :mod:`.oidc`: signing in, by password or SSO.
- :mod:`.audit`: who did what, when.
- :mod:`.commands`: ``contact-center agents ...``.

Never imports the web layer, the conversation or the channels.
"""
