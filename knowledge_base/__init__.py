"""The knowledge base: documents, their sources and how they reach the search index.

- :mod:`knowledge_base.documents`: the document and section types.
- :mod:`knowledge_base.service_public`, :mod:`knowledge_base.fiche_rendering`: the
  service-public.fr fiches (DILA, Licence Ouverte) from their npm package.
- :mod:`knowledge_base.markdown`, :mod:`knowledge_base.importers`: the town's pages
  (Markdown, HTML, PDF) and the demo town.
- :mod:`knowledge_base.chunking`, :mod:`knowledge_base.indexing`: chunks, idempotent indexing.
- :mod:`knowledge_base.settings`: its settings section (``CC_KB__*``).

May import :mod:`retrieval` and :mod:`foundation`; never ``contact_center``, ``channels``,
``routing`` or ``eval``.
"""
