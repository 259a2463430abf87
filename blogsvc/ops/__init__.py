"""What running the service needs besides its API: readiness and draining (health), metrics, logs, the
service's own routes and its documentation (docs), and housekeeping while it runs (background)."""
