-- Named queries about the service itself.

-- name: applied_migrations
-- The migrations yoyo has applied; readiness compares them with the ones this build ships.
SELECT migration_id FROM _yoyo_migration;
