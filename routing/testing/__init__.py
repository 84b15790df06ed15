"""Shipped test support of the routing package: a fake request classifier and its contract.

* ``fakes.py``: :class:`~routing.testing.fakes.FakeRequestClassifier`, keyword routing.
* ``contracts.py``: :class:`~routing.testing.contracts.ClassifierContract`, what any request
  classifier must do, as a pytest mixin a town can run against its own classifier.
"""
