"""The Google side's plumbing: building the real People API client, OAuth2 and token storage."""
