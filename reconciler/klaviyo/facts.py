"""Klaviyo's published facts, in one place: rate tiers, job and chunk sizes, profile attributes.

The client, the pacer and the bulk importer read them here; the engine and the plan see them
only as the adapter's :data:`FACTS` (a destination-neutral :class:`DestinationFacts`).
The profile attributes a segment column may feed are the ones ``models.Fields`` declares
(the YAML contract); Klaviyo knows two more that no column maps to.
"""

from __future__ import annotations

from reconciler.models import Fields
from reconciler.values import DestinationFacts, ImportRate, Rate

# rate tiers (burst per second, steady per minute), per account
XS = Rate(1, 15)
S = Rate(3, 60)
M = Rate(10, 150)
L = Rate(75, 750)
PROFILE_COUNT = Rate(1, 15)  # GET /api/lists/{id} with additional-fields[list]=profile_count

# sizes
SUBSCRIBE_SIZE = 1_000  # profiles per subscription job (profile-subscription-bulk-create-jobs)
LOOKUP_SIZE = 100  # emails per GET /api/profiles filter (any(email,[...]))
MAX_PROFILES = 10_000  # profiles per bulk import job
MAX_BODY_BYTES = 5_000_000  # one bulk import request body
MAX_PROFILE_BYTES = 100_000  # one profile in a bulk import
MEMBER_CHUNK = 1_000  # profile ids per list relationship call (add or remove)
EMAILS_PER_LOOKUP = 100  # emails per GET /api/profiles filter
PAGE_SIZE = 100  # members per page of GET /api/lists/{id}/profiles
JOB_POLL_SECONDS = 0.5  # unscaled base of the job-poll pace while an apply waits

# Import processing: Klaviyo does not publish how fast it processes bulk import jobs. This is an
# ASSUMED range, from a measurement (issue 14: 49,868 profiles added in 26 s, about 1,900/s),
# widened to about half and one and a half times that for other accounts and loads.
IMPORT_RATE = ImportRate(low=1_000.0, high=3_000.0)  # profiles per second

# profile attributes
PROFILE_ATTRIBUTES = frozenset(Fields.attribute_names()) | {"image", "location"}

FACTS = DestinationFacts(
    job_size=MAX_PROFILES,
    remove_chunk=MEMBER_CHUNK,
    page_size=PAGE_SIZE,
    write_rate=M,
    read_rate=L,
    subscribe_size=SUBSCRIBE_SIZE,
    subscribe_rate=L,
    lookup_size=LOOKUP_SIZE,
    import_rate=IMPORT_RATE,
)
