"""The account's sync options, each enumeration written once.

The core, the database models, the API's pydantic schemas, the generated OpenAPI
document and the front end's generated constants all read these classes; nothing else
spells their values.
"""

from __future__ import annotations

from enum import StrEnum


class ConflictPolicy(StrEnum):
    """Who wins a field changed differently on both sides since the last sync."""

    NEWEST = "newest"  # the side that changed the field last
    ATARYS = "atarys"  # ATARYS always wins
    GOOGLE = "google"  # Google always wins
    MANUAL = "manual"  # left open for a person


class DeletionSetting(StrEnum):
    """What a deletion on one side does to the other side."""

    PROPAGATE = "propagate"  # delete the other side's item too
    UNLINK = "unlink"  # keep the other side's item and stop syncing it


class ImportScope(StrEnum):
    """Which Google contacts come into ATARYS."""

    ALL = "all"  # every contact of the account
    GROUP = "group"  # only the contacts in the "ATARYS" label


CONFLICT_POLICIES: tuple[str, ...] = tuple(ConflictPolicy)
DELETION_SETTINGS: tuple[str, ...] = tuple(DeletionSetting)
IMPORT_SCOPES: tuple[str, ...] = tuple(ImportScope)
