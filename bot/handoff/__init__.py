"""Human handoff: escalation, the persistent ticket queue, agents' desk and notifications.

The queue lives in ``tickets`` (data and states), ``store`` (the ``TicketStore`` protocol and
``ticket_store_from_env()``), ``sqlite_store`` / ``postgres_store`` (backends), ``priority``,
``waits``, ``schedule`` and ``config`` (data/handoff.yml); see docs/handoff.md. Import from
those modules: this package module stays empty so importing one part loads nothing else.
"""
