"""Every PostgreSQL advisory lock namespace the app uses, allotted in one place so that
two features never pick the same one. A lock is (namespace, id)."""

from __future__ import annotations

# A worker's claim on an import job (jobs.claims; key: the job id).
IMPORT_JOB = 0x1A7
# Imports and delete-all never overlap (catalog_guard; key: 1).
CATALOG_WRITERS = 0x1A8
# A worker's claim on a delete-all job (key: the job id).
BULK_DELETE_JOB = 0x1A9
# A worker's claim on an import's revert (key: the revert job id).
IMPORT_REVERT_JOB = 0x1B1
# Uploads take their place in the imports' apply order one at a time (key: 1).
IMPORT_APPLY_ORDER = 0x1AA
# Products' secondary indexes set aside by a big import, or being built again
# (imports.deferred_indexes; key: 1).
DEFERRED_INDEXES = 0x1B0
# A worker's claim on an export job (key: the job id).
EXPORT_JOB = 0x1AB
