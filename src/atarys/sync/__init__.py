"""The bidirectional sync between ATARYS clients and Google Contacts.

``core/`` decides (pure: records, mapping, the three-way ``plan``), ``sides/`` reads and
writes each side behind one interface, ``store`` keeps links, runs and conflicts,
``engine`` executes a plan batch by batch, ``service`` is the entry point for the API
and ``cli`` for the ``atarys sync`` command. See ``README.md`` in this folder.
"""
