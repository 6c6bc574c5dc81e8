"""The browser UI: Reflex states, pages and components, one module per page."""
