"""An interrupted apply (SIGINT to a real child process) is notified, then exits 130."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
import yaml

from tests.adoption.receiver import Receiver, webhook_receiver
from tests.faults.conftest import FaultRig, bulk_jobs, start_apply, wait_until

pytestmark = pytest.mark.faults
HOOK_ENV = "ADOPTION_INTERRUPT_HOOK"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as found:
        yield found


def test_an_interrupted_apply_is_notified(
    rig: FaultRig,
    receiver: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig.setup(keep=500, drop=300, new=3_000)
    notification = {
        "kind": "Notification",
        "name": "ops",
        "webhook": {"env": HOOK_ENV},
        "on": ["interrupted"],
    }
    (rig.harness.workspace.config_dir / "notify.yaml").write_text(yaml.safe_dump(notification))
    monkeypatch.setenv(HOOK_ENV, receiver.url)
    child = start_apply(rig)
    wait_until(lambda: bulk_jobs(rig.server) >= 1, child.proc)
    child.proc.send_signal(signal.SIGINT)
    code, _, err = child.finish(timeout=30)
    assert code == 130, err
    assert "Notification ops sent (interrupted)." in err
    (message,) = receiver.messages()
    meta = message["reconciler"]
    assert meta["events"] == ["interrupted"] and meta["outcome"] == "interrupted"
    assert [e["outcome"] for e in meta["exports"]] == ["interrupted"]
    assert message["text"].startswith(":octagonal_sign: reconciler apply interrupted")
