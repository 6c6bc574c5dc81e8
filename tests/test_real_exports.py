"""Files as shops, ERPs and spreadsheets export them, through `POST /api/imports` to a
worker: other header names (mapped by synonyms and similarity, or by a mapping the
client sends), local number styles, shop-system `active` words, UTF-16 text, semicolons,
CRLF, a BOM, no final line break, and `.csv.gz` uploads, with a bound on what they
inflate to. A header that does not say clearly which column is which is refused before
any job exists, with the headers found and the suggestions."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest

from product_importer.csvfile.compressed import (
    CompressedFileDamaged,
    InflatedTooLarge,
    Inflater,
)
from product_importer.csvfile.mapping import suggest_mapping
from tests.support import import_csv, upload
from tests.test_upload_limits import NOTHING, leftovers


def products(db) -> list[tuple]:
    return db.execute(
        "SELECT sku, name, description, price::text, active FROM products ORDER BY sku"
    ).fetchall()


def post(client, data: bytes, *, filename: str = "export.csv", **fields: str):
    return client.post("/api/imports", data=fields, files={"file": (filename, data, "text/csv")})


def test_a_shopify_export_is_mapped_and_imported(client, db, worker) -> None:
    data = (
        "\ufeffHandle,Title,Body (HTML),Vendor,Variant SKU,Variant Price,"
        "Variant Compare At Price,Status\r\n"
        "red-shirt,Red Shirt,<p>Cotton</p>,Acme,RS-1,19.90,25.00,active\r\n"
        'blue-shirt,Blue Shirt,<p>Linen</p>,Acme,BS-1,"1,299.00",,draft'
    ).encode()
    job = import_csv(client, data)
    assert (job["created"], job["skipped"]) == (2, 0)
    assert products(db) == [
        ("BS-1", "Blue Shirt", "<p>Linen</p>", "1299.00", False),
        ("RS-1", "Red Shirt", "<p>Cotton</p>", "19.90", True),
    ]
    assert job["extra_columns"] == ["Handle", "Vendor", "Variant Compare At Price"]


def test_a_woocommerce_export_takes_description_and_regular_price(client, db, worker) -> None:
    data = (
        b"ID,Type,SKU,Name,Published,Short description,Description,Sale price,Regular price\n"
        b"11,simple,W-1,Mug,1,Short,Long text,5,7.50\n"
        b"12,simple,W-2,Cup,-1,Short,Other,,3\n"
    )
    import_csv(client, data)
    assert products(db) == [
        ("W-1", "Mug", "Long text", "7.50", True),
        ("W-2", "Cup", "Other", "3.00", False),
    ]


def test_a_german_erp_export_with_semicolons_and_decimal_commas(client, db, worker) -> None:
    data = (
        "Artikelnummer;Bezeichnung;Beschreibung;Preis;Aktiv\r\n"
        "A-1;Größe M;Baumwolle;1.299,00 €;ja\r\n"
        "A-2;Schal;Wolle;12,50;nein\r\n"
        "A-3;Mütze;Wolle;1.299;Ja\r\n"  # thousands, as the file's decimal comma says
    ).encode("cp1252")
    job = import_csv(client, data, "artikel.csv")
    assert (job["created"], job["skipped"]) == (3, 0)
    assert products(db) == [
        ("A-1", "Größe M", "Baumwolle", "1299.00", True),
        ("A-2", "Schal", "Wolle", "12.50", False),
        ("A-3", "Mütze", "Wolle", "1299.00", True),
    ]


@pytest.mark.parametrize(
    ("header", "rows", "prices"),
    [
        ("référence,désignation,description,prix,actif", 'F1,a,b,"€ 12,50",oui', ["12.50"]),
        ("Referencia;Nombre;Descripción;Precio;Activo", "E1;a;b;1.299,00;sí", ["1299.00"]),
        (
            "Product SKU,Product Name,Long Description,Price,Status",
            'P1,a,b,"$1,299.00",Active',
            ["1299.00"],
        ),
        (
            "SKU\tTitle\tBody (HTML)\tVariant Price\tPublished",
            "T1\ta\tb\t12.50 EUR\tTRUE",
            ["12.50"],
        ),
        ("productSku,product_name,DESCRIPTION,unit price,enabled", "C1,a,b,12,disabled", ["12.00"]),
    ],
)
def test_headers_and_prices_as_people_write_them(client, db, worker, header, rows, prices):
    data = (header + "\n" + rows).encode()  # no final line break
    job = import_csv(client, data)
    assert (job["created"], job["skipped"]) == (1, 0), job
    assert [p[3] for p in products(db)] == prices


def test_an_ambiguous_thousands_comma_is_reported_not_guessed(client, db, worker) -> None:
    data = b'sku,name,description,price\nX1,a,b,"1,299"\nX2,a,b,5\n'
    job = import_csv(client, data)
    assert (job["created"], job["skipped"]) == (1, 1)
    report = client.get(f"/api/imports/{job['id']}/errors.csv").text
    assert "could be 1299 or 1.299" in report
    # The client can say what the file means.
    response = post(client, data, decimal=",")
    assert response.status_code == 202, response.text


def test_the_decimal_field_decides_what_a_lone_separator_means(client, db, worker) -> None:
    data = b"sku;name;description;price\nX1;a;b;1,299\nX2;a;b;7.5\n"
    job = import_csv_with(client, data, decimal=".")
    assert (job["created"], job["skipped"]) == (2, 0)
    assert [p[3] for p in products(db)] == ["1299.00", "7.50"]
    job = import_csv_with(client, b"sku;name;description;price\nX1;a;b;1.299\n", decimal=",")
    assert [p[3] for p in products(db)][0] == "1299.00"


def test_a_decimal_field_that_is_not_a_separator_is_refused(client, db) -> None:
    response = post(client, b"sku,name,description,price\nA,b,c,1\n", decimal="x")
    assert response.status_code == 422
    assert "decimal separator must be" in response.json()["detail"]
    assert leftovers(db) == NOTHING


def import_csv_with(client, data: bytes, **fields: str) -> dict:
    from tests.support import wait_for_job

    response = post(client, data, **fields)
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["id"])


def test_an_unclear_header_is_refused_with_headers_found_and_suggestions(client, db) -> None:
    data = b"Item,Nme,Descripton,Cost\nA,b,c,1\n"
    response = upload(client, data)
    assert response.status_code == 422
    body = response.json()
    assert body["headers_found"] == ["Item", "Nme", "Descripton", "Cost"]
    assert body["missing"] == ["sku"]
    assert "missing column: sku" in body["detail"] and "headers found: Item" in body["detail"]
    assert body["suggested_mapping"]["name"] == "Nme"
    assert "Item" in body["suggestions"]["sku"]
    assert leftovers(db) == NOTHING


def test_two_columns_equally_good_for_a_field_are_not_guessed(client, db) -> None:
    response = upload(client, b"sku,name,description,Preis,Price EUR,Price USD\nA,b,c,1,2,3\n")
    assert response.status_code == 422
    body = response.json()
    assert body["ambiguous"] == ["price"]
    assert body["suggestions"]["price"] == ["Price EUR", "Price USD", "Preis"]
    assert leftovers(db) == NOTHING


def test_an_explicit_mapping_wins_over_the_suggestions(client, db, worker) -> None:
    data = b'Item,Nme,Descripton,Cost,Title\nA1,b,c,"3,5",Real name\n'
    mapping = {"sku": "Item", "name": "Title", "description": "descripton", "price": "Cost"}
    job = import_csv_with(client, data, mapping=json.dumps(mapping))
    assert products(db) == [("A1", "Real name", "c", "3.50", True)]
    assert job["extra_columns"] == ["Nme"]


def test_the_mapping_can_come_as_a_query_parameter(client, db, worker) -> None:
    data = b"code_x,label_y,text_z\nQ1,n,d\n"
    mapping = json.dumps({"sku": "code_x", "name": "label_y", "description": "text_z"})
    response = client.post(
        "/api/imports", params={"mapping": mapping}, files={"file": ("q.csv", data)}
    )
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ("{not json", "not valid JSON"),
        ('["sku"]', "must be a JSON object"),
        ('{"colour": "x"}', "unknown fields: colour"),
        ('{"sku": "Nope"}', "'Nope' for sku is not in the file"),
        ('{"sku": "Item", "name": "Item"}', "mapped to more than one field"),
        ('{"sku": "Item", "description": null}', "no column for: description"),
    ],
)
def test_a_mapping_that_does_not_fit_is_refused_without_a_job(client, db, mapping, words):
    response = post(client, b"Item,Name,Description\nA,b,c\n", mapping=mapping)
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert leftovers(db) == NOTHING


def test_shop_active_words_are_read(client, db, worker) -> None:
    words = {
        "Active": True,
        "Draft": False,
        "Archived": False,
        "TRUE": True,
        "false": False,
        "Published": True,
        "enabled": True,
        "Disabled": False,
        "ja": True,
        "Nein": False,
        "oui": True,
        "non": False,
        "Sí": True,
        "1": True,
        "0": False,
        "": True,
    }
    rows = "".join(f"K{i},n,d,{w}\n" for i, w in enumerate(words))
    job = import_csv(client, ("sku,name,description,Status\n" + rows).encode())
    assert (job["created"], job["skipped"]) == (len(words), 0)
    stored = dict(db.execute("SELECT sku, active FROM products").fetchall())
    assert [stored[f"K{i}"] for i in range(len(words))] == list(words.values())


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_as_excel_writes_it_is_imported(client, db, worker, codec) -> None:
    text = "sku\tname\tdescription\tprice\r\nU1\tÄpfel\tÖl, süß\t2,50\r\nU2\tBrot\tx\t3"
    job = import_csv(client, text.encode(codec), "unicode.txt")
    assert (job["created"], job["skipped"]) == (2, 0)
    assert products(db)[0][:4] == ("U1", "Äpfel", "Öl, süß", "2.50")


def test_a_gzip_compressed_csv_is_inflated_as_it_streams(client, db, worker) -> None:
    rows = "".join(f"G{i},Name {i},Description {i},{i},yes\r\n" for i in range(3000))
    data = gzip.compress(("\ufeffSKU,Title,Body,Price,Active\r\n" + rows).encode())
    job = import_csv(client, data, "catalog.csv.gz")
    assert (job["created"], job["skipped"], job["total_rows"]) == (3000, 0, 3000)


def test_a_gzip_file_that_inflates_past_the_limit_is_refused(client, db) -> None:
    # 6 MB of rows (the tests' limit is 5 MB) in a few KB.
    data = gzip.compress(b"sku,name,description\n" + b"A,b,c\n" * 1_000_000)
    assert len(data) < 100_000
    response = upload(client, data, "bomb.csv.gz")
    assert response.status_code == 413, response.text
    assert "inflates to more than the 5 MB limit" in response.json()["detail"]
    assert leftovers(db) == NOTHING


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (gzip.compress(b"sku,name,description\n" + b"A,b,c\n" * 5000)[:-40], "cut short"),
        (b"\x1f\x8b" + b"\x00" * 200, "damaged"),
    ],
)
def test_a_damaged_gzip_file_is_refused_and_nothing_is_kept(client, db, data, words) -> None:
    response = upload(client, data, "broken.csv.gz")
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]
    assert leftovers(db) == NOTHING


def test_the_inflater_refuses_a_bomb_by_its_ratio_in_bounded_memory() -> None:
    bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
    data = bomb.compress(b"\x00" * 200_000_000) + bomb.flush()
    inflater = Inflater(limit=10**12)
    biggest = 0
    with pytest.raises(InflatedTooLarge, match="more than 250 times"):
        for piece in inflater.feed(data):
            biggest = max(biggest, len(piece))
    assert biggest <= 1 << 20
    assert inflater.inflated < 40_000_000


def test_the_inflater_reads_several_gzip_members_and_refuses_a_cut() -> None:
    data = gzip.compress(b"sku,name\n") + gzip.compress(b"A,b\n")
    inflater = Inflater(limit=1000)
    assert b"".join([*inflater.feed(data), *inflater.finish()]) == b"sku,name\nA,b\n"
    cut = Inflater(limit=1000)
    with pytest.raises(CompressedFileDamaged):
        list(cut.feed(data[:-5]))
        list(cut.finish())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (
            ["Variant SKU", "Title", "Body (HTML)", "Variant Price", "Status"],
            {
                "sku": "Variant SKU",
                "name": "Title",
                "description": "Body (HTML)",
                "price": "Variant Price",
                "active": "Status",
            },
        ),
        (
            ["sku", "name", "description", "Short description", "Sale price", "Regular price"],
            {"sku": "sku", "name": "name", "description": "description", "price": "Regular price"},
        ),
        (
            ["sku", "name", "description", "short_description", "price", "status"],
            {
                "sku": "sku",
                "name": "name",
                "description": "description",
                "price": "price",
                "active": "status",
            },
        ),
        (
            ["Art.-Nr.", "Artikelbezeichnung", "Langtext", "VK-Preis"],
            {
                "sku": "Art.-Nr.",
                "name": "Artikelbezeichnung",
                "description": "Langtext",
                "price": "VK-Preis",
            },
        ),
        (
            ["  SKU  ", "NAME", "Déscription"],
            {"sku": "  SKU  ", "name": "NAME", "description": "Déscription"},
        ),
    ],
)
def test_suggestions_for_common_exports(headers, expected) -> None:
    suggestion = suggest_mapping(headers)
    assert suggestion.settled
    assert suggestion.chosen_headers() == expected
