"""Security for internal callers: service tokens, brute-force lockout, safe retries (Idempotency-Key),
password rules, response headers, and the OpenAPI document that declares them."""
