"""The pure sync core: records, normalization, mapping, matching, the three-way plan.

Nothing here imports Flask, SQLAlchemy or googleapiclient (``tests/sync/test_core_pure.py``
checks it): every function takes values and returns values, so it is tested by tables.
"""
