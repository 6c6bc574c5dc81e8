"""How an import ended, told the same way by the API, the card, the toast and the history:
its outcome, the rows repeated in the file, and its duration and average rate."""

from __future__ import annotations

from product_importer.imports import jobs
from product_importer.imports.kind import import_snapshot
from product_importer.ui.imports.cards import card_of, ending_toast, row_of
from tests.support import catalog, csv_bytes, import_csv


def _told(job_id: int) -> tuple[str, str, str, str]:
    """The outcome as the card, the history line and the toast show it, and the toast text."""
    job = jobs.get_job(job_id)
    snapshot = import_snapshot(job)
    card = card_of(snapshot, job.filename)
    row = row_of(job)
    toast = str(ending_toast(snapshot, job.filename))
    assert card.outcome == row.outcome
    assert card.repeated == row.repeated
    return card.outcome, card.outcome_words, card.repeated, toast


def test_a_file_whose_every_row_is_bad_applied_nothing(client, db, worker) -> None:
    # A semicolon file (CRLF, no final line break) whose every row is wrong in its own way.
    data = b"sku;name;description;price\r\nA-1;One;d;-1,50\r\nA-2;;d;2,50\r\nA-3;Three;d;lots"
    job = import_csv(client, data)
    assert job["status"] == "completed"
    assert (job["created"], job["skipped"]) == (0, 3)
    assert job["outcome"] == "nothing_applied"
    assert job["repeated"] == 0
    outcome, words, _, toast = _told(job["id"])
    assert (outcome, words) == ("nothing_applied", "nothing applied")
    assert "nothing was imported" in toast and "imported" in toast
    history = client.get("/api/imports").json()["items"]
    assert history[0]["id"] == job["id"] and history[0]["outcome"] == "nothing_applied"


def test_a_header_only_file_applied_nothing(client, db, worker) -> None:
    job = import_csv(client, b"sku,name,description,price\n")
    assert (job["status"], job["total_rows"], job["outcome"]) == ("completed", 0, "nothing_applied")
    assert _told(job["id"])[0] == "nothing_applied"


def test_some_skipped_rows_are_applied_with_skipped_rows(client, db, worker) -> None:
    rows = [*catalog(3), ("", "No sku", "d", "1", "yes"), ("B-1", "Negative", "d", "-3", "yes")]
    job = import_csv(client, csv_bytes(rows))
    assert (job["created"], job["skipped"], job["outcome"]) == (3, 2, "applied_with_skipped")
    outcome, words, _, toast = _told(job["id"])
    assert (outcome, words) == ("applied_with_skipped", "applied with skipped rows")
    assert "2 skipped rows" in toast and "error report" in toast


def test_case_variant_repeats_are_counted_everywhere(client, db, worker) -> None:
    rows = [
        ("abc-1", "First", "d", "1"),
        ("XYZ", "Other", "d", "2"),
        ("ABC-1", "Second", "d", "3"),
        ("Abc-1", "Last", "d", "4"),
    ]
    job = import_csv(client, csv_bytes(rows, header=("sku", "name", "description", "price")))
    assert (job["total_rows"], job["created"], job["skipped"], job["repeated"]) == (4, 2, 0, 2)
    # The numbers add up: every row was created, updated, unchanged, skipped or repeated.
    assert (
        job["created"] + job["updated"] + job["unchanged"] + job["skipped"] + job["repeated"]
        == job["total_rows"]
    )
    assert job["outcome"] == "all_applied"
    outcome, _, repeated, toast = _told(job["id"])
    assert outcome == "all_applied"
    assert repeated == "2 repeated in the file: the last one was kept"
    assert repeated in toast
    assert client.get(f"/api/imports/{job['id']}").json()["repeated"] == 2


def test_a_finished_card_shows_its_duration_and_average_rate(client, db, worker) -> None:
    job = import_csv(client, csv_bytes(catalog(2000)))
    assert job["duration_seconds"] is not None and job["duration_seconds"] > 0
    assert job["average_rows_per_second"] == round(2000 / job["duration_seconds"], 1)
    card = card_of(import_snapshot(jobs.get_job(job["id"])), "catalog.csv")
    assert card.finished
    assert card.speed.endswith("rows/s") and card.speed != "—"
    assert card.eta != "—"


def test_a_running_job_has_no_outcome_yet(client, db, worker) -> None:
    job = import_csv(client, csv_bytes(catalog(10)))
    stored = jobs.get_job(job["id"])
    stored.status = "processing"
    snapshot = import_snapshot(stored)
    assert (snapshot.outcome, snapshot.duration_seconds is not None) == (None, True)
    card = card_of(snapshot, "catalog.csv")
    assert card.outcome == "" and card.outcome_words == ""
