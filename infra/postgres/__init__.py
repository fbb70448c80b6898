"""The local Applications Database: Debian's PostgreSQL, initialised under the data
directory's control, started under the supervisor, its schema migrated by ``curex up``."""
