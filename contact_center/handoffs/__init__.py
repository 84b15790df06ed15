"""Handoffs: a person takes the conversation over.

- :mod:`.queue`, :mod:`.schema`: conversations waiting in a service's queue, their life cycle.
- :mod:`.assistant_desk`: the assistant's side (open a handoff, tell the resident).
- :mod:`.agent_desk`: the agents' side (claim, reply, transfer, close, hand back).
- :mod:`.realtime`: live events shared by every app replica (in process or Redis).
- :mod:`.canned_responses`, :mod:`.opening_hours`: agents' texts and hours.

Never imports the web layer or the channels.
"""
