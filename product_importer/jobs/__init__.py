"""Jobs: the mechanism every kind of background job plugs into."""
