"""The directory's write path: imports and exports (imports.py), maintenance stamps and edits
(maintenance.py), search tags (tags.py), the demo directory (seed.py)."""

from crisisdesk.directory.services.imports import (
    ImportReport,
    export_datapackage,
    export_json,
    import_hsds_datapackage,
    import_hsds_documents,
    import_hsds_json,
)
from crisisdesk.directory.services.maintenance import edit_service, stamp_verified
from crisisdesk.directory.services.seed import seed_demo_directory

__all__ = [
    "ImportReport",
    "edit_service",
    "seed_demo_directory",
    "stamp_verified",
    "export_datapackage",
    "export_json",
    "import_hsds_datapackage",
    "import_hsds_documents",
    "import_hsds_json",
]
