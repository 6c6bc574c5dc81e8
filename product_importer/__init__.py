"""Product Importer: import large product catalogs from CSV into PostgreSQL."""
