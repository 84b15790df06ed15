"""Knowledge-base administration: what administrators change and review.

- :mod:`.local_documents`, :mod:`.schema`: the commune's own pages, versioned, published.
- :mod:`.browse`: the documents an administrator browses (own pages and national fiches).
- :mod:`.validated_answers`: approved answers that skip the LLM.
- :mod:`.unanswered`: questions the assistant could not answer, grouped.
- :mod:`.routing_corrections`: agents' routing corrections, kept as labelled examples.

Never imports the web layer or the channels.
"""
