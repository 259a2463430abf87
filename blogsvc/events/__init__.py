"""The change feed: events the database writes with every change (migration 0011), numbered in commit
order by one sequencer, served by GET /events (long polls woken by one watcher per worker) and published
to NATS JetStream by `blogsvc relay`."""
