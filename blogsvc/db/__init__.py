"""The database layer, the only importer of the MySQL drivers: the sql/ loader (queries), one base for
running statements (executor), a connection and its transaction (session), the servers' pools and
fail-over (servers), the Database with its retries (cluster), coalesced point reads, the drivers,
driver errors as domain errors, and migrations."""
