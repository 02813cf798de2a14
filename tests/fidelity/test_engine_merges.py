"""A merged profile whose old id is still known (the membership cache, a plan) does not break
removals (issue 18), over a real socket: Klaviyo refuses the whole call with a 400 naming the
vanished id; the client skips it and removes the others.

On main before this change: the 400 failed the whole removal call (1,000 ids), and with it
the export, run after run while the stale id was planned.
"""

from __future__ import annotations

from reconciler.klaviyo import KlaviyoClient, Pacer
from reconciler.sandbox import SandboxConfig, SandboxServer
from tests.klaviyo.support import KEY, emails

SCALE = 60.0


async def test_removing_a_merged_away_profile_id_removes_the_others() -> None:
    with SandboxServer(SandboxConfig(api_keys=(KEY,), time_scale=SCALE)) as server:
        members = emails("m", 5)
        server.admin.seed("Mrg001", members)
        api = KlaviyoClient(KEY, base_url=server.base_url, time_scale=SCALE, pacer=Pacer(SCALE))
        async with api:
            ids = {m.email: m.profile_id for m in await api.read_members("Mrg001")}
            # Klaviyo merges m0 into m1 (a shared identifier): m0's profile id is gone
            merged = server.admin._client.post(
                "/_sandbox/profiles/merge", json={"into": members[1], "from": members[0]}
            )
            assert merged.status_code == 200, merged.text
            removed = await api.remove_members("Mrg001", [ids[members[0]], ids[members[2]]])
        assert removed == 2
        assert server.admin.members("Mrg001") == {members[1], members[3], members[4]}
