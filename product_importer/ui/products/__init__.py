"""The Products page: the catalog grid (filters, sort, pages in the URL), the product form,
deleting one product or all of them with live progress (state.py: the state; rows.py: a
product as the grid draws it; page.py, grid.py, dialogs.py: the views)."""
