"""Security for internal callers: service tokens (tokens, auth), brute-force lockout, password rules and
hashing (password_policy, passwords), and safe retries (idempotency). Each declares in the OpenAPI
document what it enforces."""
