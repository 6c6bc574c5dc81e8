"""The template CSV offered for download: our column names and two sample rows, a file
that imports as it is (2 products created) and shows how each column is written."""

from __future__ import annotations

import csv
import io

from product_importer.csvfile.header import KNOWN_COLUMNS

TEMPLATE_FILENAME = "products-template.csv"
SAMPLE_ROWS = (
    ("SAMPLE-001", "Oak dining chair", "Solid oak, seat height 46 cm", "149.90", "yes"),
    ("SAMPLE-002", "Linen cushion cover", 'Natural linen, 50 x 50 cm, "stone" colour', "", "no"),
)


def template_csv() -> str:
    """The template as CSV text (comma, CRLF line ends as spreadsheets write them)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(KNOWN_COLUMNS)
    writer.writerows(SAMPLE_ROWS)
    return out.getvalue()
