"""The communes an instance serves: the registry (the ``communes`` table) and their creation.

The database is the reference: ``CC_APP__TENANTS`` only seeds it at start-up
(:meth:`~contact_center.communes.registry.CommuneRegistry.seed`), and a platform administrator
adds a commune from the command line or ``/admin`` (:mod:`contact_center.communes.creation`).
"""
