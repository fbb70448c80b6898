"""The notifier service (``python -m notifier``; several instances may run): writes each
recipient's inbox from committed ledger changes and pushes them over
``WS /v1/notifications``, in the user's language, replaying missed ones on resume."""
