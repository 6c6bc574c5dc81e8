"""A preview says how its prices were read (decimal comma or point, chosen or seen in the
file), asks when prices read two ways, and can be read again with another decimal
separator before Apply, from the file it kept: no second upload."""

from __future__ import annotations

import httpx

from tests.support import wait_for_job, wait_until

AMBIGUOUS = b'sku,name,description,price\nA-1,Lamp,d,"1,299"\nA-2,Desk,d,"2,500"\nA-3,Cup,d,4\n'
SEEN_COMMA = b"sku;name;description;price\nC-1;Chair;d;12,50\nC-2;Table;d;1.299\n"


def preview_of(client: httpx.Client, data: bytes, **fields: str) -> dict:
    response = client.post(
        "/api/imports",
        data={"dry_run": "true", **fields},
        files={"file": ("prices.csv", data, "text/csv")},
    )
    assert response.status_code == 202, response.text
    return wait_previewed(client, response.json()["id"])


def wait_previewed(client: httpx.Client, job_id: int) -> dict:
    wait_until(
        lambda: client.get(f"/api/imports/{job_id}").json()["stage"] == "previewed",
        timeout=60,
        what=f"preview {job_id}",
    )
    return client.get(f"/api/imports/{job_id}/preview").json() | {"id": job_id}


def prices(db) -> list[tuple]:
    return db.execute("SELECT sku, price::text FROM products ORDER BY sku").fetchall()


def test_prices_that_read_two_ways_are_asked_about_and_read_again_as_chosen(
    client, db, worker
) -> None:
    first = preview_of(client, AMBIGUOUS)
    style = first["price_style"]
    assert (style["decimal"], style["source"]) == (None, "none")
    assert style["ambiguous_rows"] == 2 and style["can_change"]
    assert "choose the decimal separator" in style["words"]
    assert (first["counts"]["new"], first["counts"]["bad"]) == (1, 2)

    again = client.post(f"/api/imports/{first['id']}/reread", json={"decimal": "."})
    assert again.status_code == 202, again.text
    second = wait_previewed(client, again.json()["id"])
    assert second["id"] != first["id"]
    assert (second["counts"]["new"], second["counts"]["bad"]) == (3, 0)
    assert second["price_style"]["source"] == "chosen"
    assert second["price_style"]["ambiguous_rows"] == 0
    old = client.get(f"/api/imports/{first['id']}").json()
    assert (old["status"], old["stage"]) == ("cancelled", "discarded")
    # The old preview can no longer be read again nor applied.
    assert (
        client.post(f"/api/imports/{first['id']}/reread", json={"decimal": ","}).status_code == 409
    )
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (1,)

    applied = client.post(f"/api/imports/{second['id']}/apply")
    assert applied.status_code == 200, applied.text
    job = wait_for_job(client, second["id"])
    assert (job["created"], job["price_decimal"], job["price_decimal_source"]) == (3, ".", "chosen")
    assert prices(db) == [("A-1", "1299.00"), ("A-2", "2500.00"), ("A-3", "4.00")]
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (0,)


def test_a_style_seen_in_the_file_is_shown_and_can_be_changed(client, db, worker) -> None:
    first = preview_of(client, SEEN_COMMA)
    style = first["price_style"]
    assert (style["decimal"], style["source"], style["ambiguous_rows"]) == (",", "seen", 0)
    assert "decimal comma" in style["words"] and "seen in the file" in style["words"]
    assert first["counts"]["bad"] == 0
    again = client.post(f"/api/imports/{first['id']}/reread", json={"decimal": "."})
    second = wait_previewed(client, again.json()["id"])
    # With a decimal point, 1.299 has three decimals: refused, not guessed.
    assert second["counts"]["bad"] == 1
    assert "2 decimal places" in second["bad_rows"][0]["reason"]
    assert client.post(f"/api/imports/{second['id']}/discard").status_code == 200
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (0,)
    assert prices(db) == []


def test_reading_again_is_refused_where_it_cannot_be(client, db, worker) -> None:
    first = preview_of(client, SEEN_COMMA)
    bad = client.post(f"/api/imports/{first['id']}/reread", json={"decimal": ";"})
    assert bad.status_code == 422
    plain = client.post(
        "/api/imports",
        files={"file": ("p.csv", b"sku,name,description,price\nX,x,x,1\n", "text/csv")},
    ).json()
    wait_for_job(client, plain["id"])
    not_preview = client.post(f"/api/imports/{plain['id']}/reread", json={"decimal": "."})
    assert not_preview.status_code == 409 and "not a preview" in not_preview.json()["detail"]
    assert client.post("/api/imports/999/reread", json={"decimal": "."}).status_code == 404
    # No price column: nothing to choose, no file kept.
    no_price = preview_of(client, b"sku,name,description\nN-1,n,n\n")
    assert no_price["price_style"]["source"] is None
    assert not no_price["price_style"]["can_change"]
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (1,)


def test_a_preview_whose_prices_read_the_same_either_way_keeps_no_file(client, db, worker) -> None:
    plain = preview_of(client, b'sku,name,description,price\nP-1,p,p,9.99\nP-2,q,q,"12,50"\n')
    style = plain["price_style"]
    assert style["ambiguous_rows"] == 0 and not style["can_change"]
    assert db.execute("SELECT count(*) FROM pending_uploads").fetchone() == (0,)
    refused = client.post(f"/api/imports/{plain['id']}/reread", json={"decimal": ","})
    assert refused.status_code == 409 and "was not kept" in refused.json()["detail"]
