"""The GRU (gestion de la relation usager): residents' requests tracked as cases.

- :mod:`.cases`, :mod:`.case_domain`, :mod:`.schema`: cases, statuses, history, their store.
- :mod:`.tracking_codes`, :mod:`.working_days`: what residents keep, when answers are due.
- :mod:`.notices`, :mod:`.outbox`, :mod:`.notifications`: legal acknowledgements by e-mail/SMS.
- :mod:`.connector`: the port a town plugs its own GRU into.
- :mod:`.publik`, :mod:`.publik_mapping`, :mod:`.publik_signature`: a town's Publik (w.c.s.)
  as the GRU.
- :mod:`.service_catalogue`: each commune's services, stored and editable.

Imports only :mod:`contact_center.db`, :mod:`contact_center.errors`, settings and the lower floors.
"""
