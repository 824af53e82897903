"""Response handlers of the People API: parse request → call the model → Google-shaped JSON.

``common`` (the ``Call`` and parameter parsing), ``people`` (``people.*``) and
``groups`` (``contactGroups.*``). ``urls`` maps paths to them; ``app`` runs them.
"""
