from tests.gql import gql, raw


async def test_create_and_list_case(client, world):
    data = await gql(
        client,
        world.tokens["a1_grid"],
        """mutation($input: CreateCaseInput!) { createCase(input: $input) { created case { id number status
           center { name } grid { code } parties { role person { name idNumber } } } } }""",
        {
            "input": {
                "title": "邻居漏水",
                "category": "neighbor",
                "channel": "grid",
                "gridId": __import__("zongzhi.platform.schema.ids", fromlist=["x"]).to_global_id(
                    "Grid", world.grids["a1g1"].id
                ),
                "clientRequestId": "req-1",
                "parties": [
                    {"role": "APPLICANT", "person": {"name": "张三", "idNumber": "11010519491231002X"}}
                ],
            }
        },
    )
    assert data["createCase"]["created"] is True
    listed = await gql(
        client, world.tokens["county_staff"], "{ cases { totalCount edges { node { number } } } }"
    )
    assert listed["cases"]["totalCount"] == 1
    r = await raw(client, None, "{ me { username } }")
    assert r.status_code == 401
