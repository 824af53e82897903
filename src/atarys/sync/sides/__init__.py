"""The two sides of a sync behind one interface (``base.Side``): ATARYS, Google, memory."""
