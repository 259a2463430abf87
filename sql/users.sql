-- Named queries for users. Every read and write of a live user says `deleted_at IS NULL`.
-- Times come back formatted by the server as RFC 3339 UTC strings with microseconds,
-- ready to encode; `%%` is a literal `%` because parameters are bound with `%(name)s`.
-- The columns of a user are, in order: id, email, first_name, last_name, city, is_active,
-- created_at, updated_at, version.

-- name: insert_user<!
INSERT INTO users (email, password_hash, first_name, last_name, city, is_active, created_at)
VALUES (%(email)s, %(password_hash)s, %(first_name)s, %(last_name)s, %(city)s, %(is_active)s, %(now)s);

-- name: get_users
-- The live ones among a list of ids: single-user reads that arrive together share this
-- statement (blogsvc/coalescing.py). `ids` is a JSON array of ids (a lone read passes one):
-- a driver cannot bind a list, and JSON_TABLE joins on the primary key, row by row (eq_ref).
SELECT u.id, u.email, u.first_name, u.last_name, u.city, u.is_active,
       DATE_FORMAT(u.created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       DATE_FORMAT(u.updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       u.version
  FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) AS wanted
  JOIN users u ON u.id = wanted.id
 WHERE u.deleted_at IS NULL;

-- name: get_user_version$
SELECT version FROM users WHERE id = %(id)s AND deleted_at IS NULL;

-- name: list_users_asc
-- A page of live users by ascending id, after the keyset bound, skipping `offset` rows.
SELECT id, email, first_name, last_name, city, is_active,
       DATE_FORMAT(created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       DATE_FORMAT(updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       version
  FROM users FORCE INDEX (ix_users_deleted_at_id)
 WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
 ORDER BY id
 LIMIT %(offset)s, %(fetch)s;

-- name: list_users_desc
SELECT id, email, first_name, last_name, city, is_active,
       DATE_FORMAT(created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       DATE_FORMAT(updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       version
  FROM users FORCE INDEX (ix_users_deleted_at_id)
 WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
 ORDER BY id DESC
 LIMIT %(offset)s, %(fetch)s;

-- name: list_users_by_email
-- Email is unique among live users, so this is one row at most; order does not matter.
SELECT id, email, first_name, last_name, city, is_active,
       DATE_FORMAT(created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       DATE_FORMAT(updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       version
  FROM users
 WHERE live_email = LOWER(%(email)s) AND id > %(after)s AND id < %(before)s
 LIMIT %(offset)s, %(fetch)s;

-- fragment: user_filters
-- Filters of GET /users beyond email: NULL when not asked for, and then folded away before the plan is
-- made (the driver writes the values into the statement's text).
   AND (%(ids)s IS NULL OR id IN (SELECT id FROM JSON_TABLE(%(ids)s, '$[*]' COLUMNS (id BIGINT PATH '$')) wanted))
   AND (%(updated_since)s IS NULL OR IFNULL(updated_at, created_at) >= %(updated_since)s)

-- name: list_users_filtered_asc
-- With id or updated_since (and maybe email).
SELECT id, email, first_name, last_name, city, is_active,
       DATE_FORMAT(created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       DATE_FORMAT(updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       version
  FROM users
 WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
   AND (%(email)s IS NULL OR live_email = LOWER(%(email)s))
   {user_filters}
 ORDER BY id
 LIMIT %(offset)s, %(fetch)s;

-- name: list_users_filtered_desc
SELECT id, email, first_name, last_name, city, is_active,
       DATE_FORMAT(created_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       DATE_FORMAT(updated_at, '%%Y-%%m-%%dT%%H:%%i:%%s.%%fZ'),
       version
  FROM users
 WHERE deleted_at IS NULL AND id > %(after)s AND id < %(before)s
   AND (%(email)s IS NULL OR live_email = LOWER(%(email)s))
   {user_filters}
 ORDER BY id DESC
 LIMIT %(offset)s, %(fetch)s;

-- name: count_users$
-- count=true: how many live users match, whatever the page.
SELECT COUNT(*) FROM users
 WHERE deleted_at IS NULL
   AND (%(email)s IS NULL OR live_email = LOWER(%(email)s))
   {user_filters};

-- name: get_credentials^
-- What /auth/verify needs of a live user: id, password_hash, is_active.
SELECT id, password_hash, is_active FROM users WHERE live_email = LOWER(%(email)s);

-- name: update_user!
-- Sets the fields given (NULL leaves one as it is) if the user is live and, when the caller
-- sent If-Match, its version is one of those listed. 0 rows: absent, deleted, or stale.
UPDATE users
   SET email         = COALESCE(%(email)s, email),
       first_name    = COALESCE(%(first_name)s, first_name),
       last_name     = COALESCE(%(last_name)s, last_name),
       city          = COALESCE(%(city)s, city),
       is_active     = COALESCE(%(is_active)s, is_active),
       password_hash = COALESCE(%(password_hash)s, password_hash),
       version       = version + 1,
       updated_at    = %(now)s
 WHERE id = %(id)s AND deleted_at IS NULL
   AND (%(if_match)s IS NULL OR FIND_IN_SET(version, %(if_match)s));

-- name: rehash_password!
-- The hash is not part of the representation, so the version stays.
UPDATE users SET password_hash = %(new_hash)s
 WHERE id = %(id)s AND password_hash = %(old_hash)s AND deleted_at IS NULL;

-- name: soft_delete_user!
UPDATE users SET deleted_at = %(now)s, version = version + 1
 WHERE id = %(id)s AND deleted_at IS NULL
   AND (%(if_match)s IS NULL OR FIND_IN_SET(version, %(if_match)s));

-- name: restore_user!
-- Fails with a duplicate key when a live user has taken the email meanwhile. A restore is
-- not an edit: updated_at stays, the version (ETag) changes.
UPDATE users SET deleted_at = NULL, version = version + 1
 WHERE id = %(id)s AND deleted_at IS NOT NULL;
