"""Accounts, lists and list membership: bodies, paging, filters, sort and limits."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.sandbox.helpers import (
    call,
    emails,
    ids_body,
    list_body,
    members,
    quiet_client,
    read_all,
    seed,
)

MEMBERS = "get_profiles_for_list"
MEMBER_IDS = "get_profile_ids_for_list"


async def test_accounts_lists_and_list_creation() -> None:
    async with quiet_client() as client:
        accounts = await call(client, "GET", "/api/accounts", "get_accounts", 200)
        assert accounts["data"][0]["type"] == "account"
        created = await call(
            client, "POST", "/api/lists", "create_list", 201, body=list_body("VIP")
        )
        list_id = created["data"]["id"]
        assert len(list_id) == 6 and list_id.isalnum()
        assert created["data"]["attributes"]["name"] == "VIP"
        one = await call(
            client,
            "GET",
            f"/api/lists/{list_id}",
            "get_list",
            200,
            params={"additional-fields[list]": "profile_count"},
        )
        assert one["data"]["attributes"]["profile_count"] == 0
        listed = await call(
            client, "GET", "/api/lists", "get_lists", 200, params={"filter": 'equals(name,"VIP")'}
        )
        assert [item["id"] for item in listed["data"]] == [list_id]
        await call(client, "GET", "/api/lists/nope42", "get_list", 404)


async def test_get_lists_pages_by_ten() -> None:
    async with quiet_client() as client:
        for n in range(12):
            await call(
                client, "POST", "/api/lists", "create_list", 201, body=list_body(f"L{n:02d}")
            )
        found = await read_all(client, "/api/lists", "get_lists", sort="name")
        assert [item["attributes"]["name"] for item in found] == [f"L{n:02d}" for n in range(12)]
        await call(client, "GET", "/api/lists", "get_lists", 400, params={"page[size]": "11"})


async def test_create_list_rejects_bad_bodies() -> None:
    async with quiet_client() as client:
        error = await call(
            client,
            "POST",
            "/api/lists",
            "create_list",
            400,
            body={"data": {"type": "list", "attributes": {}}},
        )
        assert error["errors"][0]["source"]["pointer"] == "/data/attributes/name"
        await call(
            client,
            "POST",
            "/api/lists",
            "create_list",
            409,
            body={"data": {"type": "segment", "attributes": {"name": "x"}}},
        )
        await call(client, "POST", "/api/lists", "create_list", 400)


async def test_members_page_with_cursor_and_fields() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", emails("m", 250))
        found = await read_all(
            client,
            "/api/lists/Y6nRLr/profiles",
            MEMBERS,
            **{"page[size]": 100, "fields[profile]": "email,joined_group_at"},
        )
        assert [p["attributes"]["email"] for p in found] == emails("m", 250)
        assert set(found[0]["attributes"]) == {"email", "joined_group_at"}
        ids = await read_all(
            client, "/api/lists/Y6nRLr/relationships/profiles", MEMBER_IDS, **{"page[size]": 100}
        )
        assert [item["id"] for item in ids] == [p["id"] for p in found]
        assert all(len(item["id"]) == 26 for item in ids)


async def test_page_size_limits() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", emails("m", 3))
        for url, operation in (
            ("/api/lists/Y6nRLr/profiles", MEMBERS),
            ("/api/lists/Y6nRLr/relationships/profiles", MEMBER_IDS),
        ):
            error = await call(client, "GET", url, operation, 400, params={"page[size]": 101})
            assert error["errors"][0]["source"]["parameter"] == "page[size]"
            await call(client, "GET", url, operation, 400, params={"page[size]": 0})
            page = await call(client, "GET", url, operation, 200, params={"page[size]": 100})
            assert len(page["data"]) == 3 and "next" not in page["links"]
        await call(
            client,
            "GET",
            "/api/lists/Y6nRLr/profiles",
            MEMBERS,
            400,
            params={"page[cursor]": "not-a-cursor"},
        )


async def test_email_filters() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", emails("m", 10))
        url = "/api/lists/Y6nRLr/profiles"
        one = await call(
            client, "GET", url, MEMBERS, 200, params={"filter": 'equals(email,"M3@Example.com")'}
        )
        assert [p["attributes"]["email"] for p in one["data"]] == ["m3@example.com"]
        several = await call(
            client,
            "GET",
            url,
            MEMBERS,
            200,
            params={"filter": 'any(email,["m1@example.com","m7@example.com","zz@example.com"])'},
        )
        assert {p["attributes"]["email"] for p in several["data"]} == {
            "m1@example.com",
            "m7@example.com",
        }
        ids = await call(
            client,
            "GET",
            "/api/lists/Y6nRLr/relationships/profiles",
            MEMBER_IDS,
            200,
            params={"filter": "equals(email,'m2@example.com')"},
        )
        assert len(ids["data"]) == 1
        bad = await call(client, "GET", url, MEMBERS, 400, params={"filter": 'equals(name,"x")'})
        assert bad["errors"][0]["source"]["parameter"] == "filter"
        await call(client, "GET", url, MEMBERS, 400, params={"filter": "equals(email,unquoted)"})
        await call(client, "GET", url, MEMBERS, 400, params={"filter": 'equals(email,"a@b.c"'})


async def test_joined_group_at_filters_and_sort() -> None:
    # microsecond filter values, as read back from joined_group_at: only in the lenient mode
    async with quiet_client(datetime_filters="any-iso") as client:
        await seed(client, "Y6nRLr", emails("early", 3))
        first = await call(client, "GET", "/api/lists/Y6nRLr/profiles", MEMBERS, 200)
        joined = datetime.fromisoformat(first["data"][0]["attributes"]["joined_group_at"])
        await seed(client, "Y6nRLr", emails("late", 2))
        later = await call(
            client,
            "GET",
            "/api/lists/Y6nRLr/profiles",
            MEMBERS,
            200,
            params={"filter": f"greater-than(joined_group_at,{joined.isoformat()})"},
        )
        late = {p["attributes"]["email"] for p in later["data"]}
        assert late == set(emails("late", 2))
        same = await call(
            client,
            "GET",
            "/api/lists/Y6nRLr/profiles",
            MEMBERS,
            200,
            params={"filter": f"greater-or-equal(joined_group_at,{joined.isoformat()})"},
        )
        assert len(same["data"]) == 5
        window = (
            f"and(less-or-equal(joined_group_at,{joined.isoformat()}),"
            f"greater-than(joined_group_at,{(joined - timedelta(days=1)).isoformat()}))"
        )
        early = await call(
            client, "GET", "/api/lists/Y6nRLr/profiles", MEMBERS, 200, params={"filter": window}
        )
        assert {p["attributes"]["email"] for p in early["data"]} == set(emails("early", 3))
        comma = window[4:-1]
        again = await call(
            client, "GET", "/api/lists/Y6nRLr/profiles", MEMBERS, 200, params={"filter": comma}
        )
        assert again["data"] == early["data"]
        none = await call(
            client,
            "GET",
            "/api/lists/Y6nRLr/profiles",
            MEMBERS,
            200,
            params={"filter": f'less-than(joined_group_at,"{joined.isoformat()}")'},
        )
        assert none["data"] == []
        newest = await read_all(
            client,
            "/api/lists/Y6nRLr/profiles",
            MEMBERS,
            **{"sort": "-joined_group_at", "page[size]": 2},
        )
        assert [p["attributes"]["email"] for p in newest] == [
            *reversed(emails("late", 2)),
            *reversed(emails("early", 3)),
        ]
        await call(
            client, "GET", "/api/lists/Y6nRLr/profiles", MEMBERS, 400, params={"sort": "email"}
        )


async def test_add_and_remove_by_profile_id() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", emails("m", 5))
        await seed(client, "Other1", [])
        ids = [
            p["id"]
            for p in await read_all(client, "/api/lists/Y6nRLr/relationships/profiles", MEMBER_IDS)
        ]
        await call(
            client,
            "POST",
            "/api/lists/Other1/relationships/profiles",
            "add_profiles_to_list",
            204,
            body=ids_body(ids[:3]),
        )
        assert await members(client, "Other1") == set(emails("m", 3))
        await call(
            client,
            "DELETE",
            "/api/lists/Y6nRLr/relationships/profiles",
            "remove_profiles_from_list",
            204,
            body=ids_body(ids[:2]),
        )
        assert await members(client, "Y6nRLr") == set(emails("m", 5)[2:])
        await call(
            client,
            "DELETE",
            "/api/lists/Y6nRLr/relationships/profiles",
            "remove_profiles_from_list",
            204,
            body=ids_body(ids[:2]),
        )
        unknown = await call(
            client,
            "POST",
            "/api/lists/Other1/relationships/profiles",
            "add_profiles_to_list",
            400,
            body=ids_body(["01ZZZZZZZZZZZZZZZZZZZZZZZZ"]),
        )
        assert unknown["errors"][0]["source"]["pointer"] == "/data/0/id"


async def test_relationship_calls_take_at_most_1000_ids() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", [])
        fake = [f"01ABCDEFGHJKMNPQRSTV{n:06d}" for n in range(1001)]
        for method, operation in (
            ("POST", "add_profiles_to_list"),
            ("DELETE", "remove_profiles_from_list"),
        ):
            error = await call(
                client,
                method,
                "/api/lists/Y6nRLr/relationships/profiles",
                operation,
                400,
                body=ids_body(fake),
            )
            assert "1000" in error["errors"][0]["detail"]
        await call(
            client,
            "POST",
            "/api/lists/Y6nRLr/relationships/profiles",
            "add_profiles_to_list",
            400,
            body={"data": []},
        )


async def test_get_profiles_by_email() -> None:
    async with quiet_client() as client:
        await seed(client, "Y6nRLr", emails("p", 4))
        found = await call(
            client,
            "GET",
            "/api/profiles",
            "get_profiles",
            200,
            params={"filter": 'any(email,["p0@example.com","P2@EXAMPLE.COM"])'},
        )
        assert sorted(p["attributes"]["email"] for p in found["data"]) == [
            "p0@example.com",
            "p2@example.com",
        ]
        one = await call(
            client,
            "GET",
            "/api/profiles",
            "get_profiles",
            200,
            params={"filter": 'equals(email,"p3@example.com")'},
        )
        assert len(one["data"]) == 1
        everyone = await read_all(client, "/api/profiles", "get_profiles", **{"page[size]": 3})
        assert len(everyone) == 4
        await call(client, "GET", "/api/profiles", "get_profiles", 400, params={"page[size]": 101})
