"""Child process for the lock tests: hold one list lock until told to stop.

Usage: python lock_holder_child.py STATE_URL KEY RELEASE_FILE HOLD_SECONDS
Prints LOCKED once the lock is held; releases it when RELEASE_FILE exists or after
HOLD_SECONDS (a negative value: only on the file), then prints RELEASED.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from reconciler.state import open_state


def main() -> None:
    url, key, release_file, hold = sys.argv[1], sys.argv[2], Path(sys.argv[3]), float(sys.argv[4])
    with (
        open_state(url) as state,
        state.locks.lock_list(key, "child-actor (run c0ffee)", timeout=10),
    ):
        print("LOCKED", flush=True)
        deadline = time.monotonic() + hold
        while not release_file.exists() and (hold < 0 or time.monotonic() < deadline):
            time.sleep(0.02)
    print("RELEASED", flush=True)


if __name__ == "__main__":
    main()
