"""Products: the catalog's list (filters, sort, paging, counting), changes to one product,
and the background delete of all products."""
