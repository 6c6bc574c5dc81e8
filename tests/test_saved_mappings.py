"""Saved mappings through the API: saved under a name for a header set, applied without
asking to a file with the same header names (the job says which), chosen by id, listed;
admins rename, change and delete them; bad names, fields and columns get a clear 4xx."""

from __future__ import annotations

import httpx
import pytest

from tests.support import wait_for_job

HEADERS = ["Code X", "Label", "Notes", "Cost"]
COLUMNS = {"sku": "Code X", "name": "Label", "description": "Notes", "price": "Cost"}
EXPORT = b"Code X,Label,Notes,Cost\r\nM-1,Chair,Oak,12.50\r\nM-2,Table,Ash,3\r\n"


@pytest.fixture
def editor(api_base: str, db, credentials) -> httpx.Client:
    with httpx.Client(base_url=api_base, timeout=60, headers=credentials.bearer("editor")) as c:
        yield c


def save(client: httpx.Client, name: str = "ERP export", **body) -> httpx.Response:
    return client.post(
        "/api/mappings", json={"name": name, "headers": HEADERS, "columns": COLUMNS, **body}
    )


def upload(client: httpx.Client, data: bytes = EXPORT, **fields: str) -> httpx.Response:
    return client.post("/api/imports", data=fields, files={"file": ("e.csv", data, "text/csv")})


def test_a_saved_mapping_is_applied_to_a_file_with_the_same_header_set(
    editor, client, db, worker
) -> None:
    created = save(editor)
    assert created.status_code == 201, created.text
    saved = created.json()
    assert saved["columns"] == {**COLUMNS, "active": None}
    assert saved["created_by"] == "tests editor"
    assert [m["name"] for m in editor.get("/api/mappings").json()] == ["ERP export"]
    # Same names in another order and letter case, with a BOM: the same header set.
    data = b"\xef\xbb\xbfcost,NOTES,label,code x\r\n3,Ash,Table,M-2\r\n"
    response = upload(editor, data)
    assert response.status_code == 202, response.text
    job = wait_for_job(editor, response.json()["id"])
    assert (job["saved_mapping_id"], job["saved_mapping_name"]) == (saved["id"], "ERP export")
    assert job["created"] == 1
    assert db.execute("SELECT sku, name, price::text FROM products").fetchall() == [
        ("M-2", "Table", "3.00")
    ]
    # Another header set is not touched by it.
    other = upload(editor, b"Code X,Label,Notes,Cost,Extra\r\nM-3,a,b,1,x\r\n")
    assert other.status_code == 422 and "pending_upload" in other.json()


def test_a_saved_mapping_can_be_chosen_by_id_in_an_upload(client, db, worker) -> None:
    saved = save(client).json()
    response = upload(client, mapping_id=str(saved["id"]))
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["id"])
    assert (job["created"], job["saved_mapping_name"]) == (2, "ERP export")
    plain = upload(client, b"sku,name,description\nA,a,a\n")
    assert wait_for_job(client, plain.json()["id"])["saved_mapping_id"] is None


def test_bad_mapping_ids_in_an_upload_are_refused_before_any_job(client, db) -> None:
    unknown = upload(client, mapping_id="999")
    assert unknown.status_code == 404
    assert unknown.json()["detail"] == "saved mapping 999 not found"
    not_a_number = upload(client, mapping_id="ERP")
    assert not_a_number.status_code == 422 and "mapping_id" in not_a_number.json()["detail"]
    both = upload(client, mapping_id="1", mapping='{"sku": "Code X"}')
    assert both.status_code == 422 and "not both" in both.json()["detail"]
    saved = save(client, headers=["Item", "Title", "Body"], columns={"sku": "Item"}).json()
    misfit = upload(client, mapping_id=str(saved["id"]))
    assert misfit.status_code == 422
    assert "'Item' for sku is not in the file" in misfit.json()["detail"]
    assert db.execute("SELECT count(*) FROM import_jobs").fetchone() == (0,)


def test_saving_from_a_kept_upload_saves_and_imports_in_one_step(client, db, worker) -> None:
    kept = upload(client).json()["pending_upload"]
    started = client.post(
        f"/api/imports/pending/{kept['id']}", json={"mapping": COLUMNS, "save_as": "Shop A"}
    )
    assert started.status_code == 202, started.text
    job = wait_for_job(client, started.json()["id"])
    assert (job["created"], job["saved_mapping_name"]) == (2, "Shop A")
    (saved,) = client.get("/api/mappings").json()
    assert (saved["name"], saved["headers"]) == ("Shop A", HEADERS)
    # The next file with these headers needs no choice at all.
    again = upload(client, b"Code X,Label,Notes,Cost\r\nM-9,Lamp,Tin,4\r\n")
    assert again.status_code == 202, again.text
    assert wait_for_job(client, again.json()["id"])["saved_mapping_id"] == saved["id"]


def test_a_taken_name_keeps_the_kept_upload_for_another_try(client, db, worker) -> None:
    save(client, "Shop A")
    kept = upload(client, b"Code X,Label,Notes\r\nA,b,c\r\n").json()["pending_upload"]
    url = f"/api/imports/pending/{kept['id']}"
    taken = client.post(url, json={"mapping": COLUMNS | {"price": None}, "save_as": "shop a"})
    assert taken.status_code == 409 and "already called" in taken.json()["detail"]
    ok = client.post(url, json={"mapping": COLUMNS | {"price": None}, "save_as": "Shop B"})
    assert ok.status_code == 202, ok.text


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"columns": {**COLUMNS, "colour": "Notes"}}, 422, "unknown fields: colour"),
        ({"columns": {**COLUMNS, "sku": "Nope"}}, 422, "'Nope' for sku is not in the file"),
        ({"columns": {"sku": "Code X", "name": None}}, 422, "no column for: name"),
        ({"columns": {**COLUMNS, "name": "Code X"}}, 422, "more than one field"),
        ({"name": "  "}, 422, "name: give the mapping a name"),
        ({"name": "x" * 101}, 422, "at most 100 characters"),
        ({"headers": []}, 422, "headers:"),
        ({"name": "erp EXPORT"}, 409, "already called"),
    ],
)
def test_a_bad_saved_mapping_is_refused_naming_the_problem(
    client, db, body: dict, status: int, words: str
) -> None:
    assert save(client).status_code == 201
    answer = save(client, **{"name": "Other", **body})
    assert answer.status_code == status, answer.text
    assert words in answer.json()["detail"]
    assert len(client.get("/api/mappings").json()) == 1


def test_admins_rename_change_and_delete_saved_mappings_editors_may_not(
    client, editor, db, worker
) -> None:
    saved = save(editor).json()
    url = f"/api/mappings/{saved['id']}"
    assert editor.patch(url, json={"name": "Mine"}).status_code == 403
    assert editor.delete(url).status_code == 403
    renamed = client.patch(url, json={"name": "ERP (2024)", "columns": {"price": None}})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "ERP (2024)"
    assert renamed.json()["columns"]["price"] is None
    assert renamed.json()["columns"]["sku"] == "Code X"  # left out: kept as saved
    bad = client.patch(url, json={"columns": {"sku": "Missing"}})
    assert bad.status_code == 422 and "not in the file" in bad.json()["detail"]
    other = {"sku": "A", "name": "B", "description": "C"}
    assert save(client, "Taken", headers=["A", "B", "C"], columns=other).status_code == 201
    assert client.patch(url, json={"name": "taken"}).status_code == 409
    job = wait_for_job(editor, upload(editor).json()["id"])
    assert job["saved_mapping_name"] == "ERP (2024)"
    assert client.get(f"/api/imports/{job['id']}").json()["preview_counts"] is None
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url).status_code == 404
    assert client.patch(url, json={"name": "x"}).status_code == 404
    kept = client.get(f"/api/imports/{job['id']}").json()
    assert (kept["saved_mapping_id"], kept["saved_mapping_name"]) == (None, "ERP (2024)")
