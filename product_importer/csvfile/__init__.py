"""Reading CSV files for imports. Pure: no database, no network.

- `encoding`: which text encoding a file is in, and its bytes as text;
- `compressed`: a gzip-compressed upload inflated as it arrives, bounded;
- `mapping`: which column holds which field (suggestions from header names, a user's map);
- `header`: the header check that runs before a job exists (`detect_format`);
- `records`: physical lines into rows, with bounded length and suspicious quotes caught;
- `staging`: rows into checked COPY lines for the staging table (`staged_lines`);
- `formula_cells`: cells a spreadsheet would run, neutralised on writing, restored on reading.

Each step takes the previous one's output, so another file format (a spreadsheet, a
compressed file) can bring its own first steps and reuse the rest.
"""

from product_importer.csvfile.encoding import decode_stream
from product_importer.csvfile.header import (
    HEADER_SCAN_BYTES,
    KNOWN_COLUMNS,
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    CsvFormat,
    HeaderProblem,
    detect_format,
    header_complete,
)
from product_importer.csvfile.records import LineTally
from product_importer.csvfile.staging import STAGING_COLUMNS, row_problem, staged_lines

__all__ = [
    "HEADER_SCAN_BYTES",
    "KNOWN_COLUMNS",
    "OPTIONAL_COLUMNS",
    "REQUIRED_COLUMNS",
    "STAGING_COLUMNS",
    "CsvFormat",
    "HeaderProblem",
    "LineTally",
    "decode_stream",
    "detect_format",
    "header_complete",
    "row_problem",
    "staged_lines",
]
