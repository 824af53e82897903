"""Work done outside a request: the scheduler of ``atarys serve`` (``scheduler.py``: scheduled
syncs claimed once across processes, the debounced push) and background ``sync-all`` runs
whose ``sync_runs`` row is the job (``background.py``)."""
