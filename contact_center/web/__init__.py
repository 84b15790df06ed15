"""The web layer: thin API routes, their dependencies and the static pages (console, admin).

Routes receive narrow dependencies (``Annotated[...]``, :mod:`.deps`) and call the domain rooms;
no domain room imports this package.
"""
