"""Google Contacts feature: the ``/api/google-contacts/*`` routes (``routes.py``), their
pydantic models (``schemas.py``), the one door to the sync engine with its account rule
and error translation (``service.py``), and read-only queries (``queries.py``)."""
