"""The Import page: drop files, watch their imports live, browse the import history
(state.py: the state; cards.py: what a card and a history line show; page.py,
job_card.py, history.py: the views)."""
