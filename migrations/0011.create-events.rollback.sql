DROP TRIGGER IF EXISTS articles_evented_on_update;
DROP TRIGGER IF EXISTS articles_evented_on_insert;
DROP TRIGGER IF EXISTS users_evented_on_update;
DROP TRIGGER IF EXISTS users_evented_on_insert;
DROP TABLE IF EXISTS event_relays;
DROP TABLE IF EXISTS event_sequencer;
DROP TABLE IF EXISTS events;
