"""Readable failures from the shipped contract mixins.

pytest rewrites the assertions of test modules only; the contracts live in the package
(:mod:`retrieval.testing.contracts`), so they are registered before the tests import them.
"""

import pytest

pytest.register_assert_rewrite("retrieval.testing.contracts")
