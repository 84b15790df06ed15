"""Shipped test support: fakes, contract mixins, harnesses and stand-ins.

* ``fakes.py``: :class:`~contact_center.testing.fakes.FakeGru` and
  :class:`~contact_center.testing.fakes.FakeNotifier`, deterministic and in memory.
* ``contracts.py``: what every GRU connector, notifier and rate limiter must do, as pytest
  mixins. A town runs them against its own implementations from the installed package (for
  example :class:`contact_center.testing.contracts.GruContract` against its GRU connector).
* ``chat_harness.py``: drives web-chat conversations through the real application.
* ``console.py``: follows live event streams (console, web chat) and signs agents in over HTTP.
* ``oidc_provider.py``: stands in for a town's single sign-on.
* ``twilio_standin.py``: stands in for Twilio's REST API (SMS, call transfers).
* ``publik_standin.py``: stands in for a town's Publik (w.c.s.), checking signatures as it does.
* ``serving.py``: an app served by uvicorn in a thread on a port the system picks.
* ``import_jobs.py``: an import held half-way, and a job followed to its end.
* ``unsourced.py``: an engine whose answers lost their citations and figures, to show that a
  quality gate on answers fails on them.
"""
