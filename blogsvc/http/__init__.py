"""What sits between uvicorn/Litestar and the handlers: the edge layer every request passes (request id,
security headers, 304s, metrics, access log, OPTIONS), the response class, the server protocol, body
decoding, strict integer parameters, conditional requests, problem documents, the OpenAPI completion,
and what controllers share.

The hot path leans on these internals of Litestar and uvicorn (pyproject.toml bounds both to the
versions they were checked on); tests/http/test_internals.py fails, naming the one that changed:
- responses.py: `litestar.response.base.ASGIResponse`'s attributes, set directly by `_Encoded`
  (status_code, headers, body, content_length, background, is_head_response, encoding, _encoded_cookies);
- server_protocol.py: `uvicorn.protocols.http.httptools_impl.HttpToolsProtocol.connection_made(transport)`
  keeps the transport it is given, and writes responses only through its write() and close(); its
  on_headers_complete runs `self.app` for the request (and makes the cycle, whose `scope` is the one
  on_message_begin made), requests in progress are `self.tasks`; a cycle's
  `disconnected` drops the app's sends and makes receive() say so; httptools raises a callback's
  exception as the `__context__` of HttpParserCallbackError;
- edge.py: `Litestar.asgi_handler`, the attribute Litestar.__call__ sends every request to (replaced by
  the Edge), and the `path_template` the router puts in the scope;
- validation.py: the before_request hook runs before Litestar extracts any argument;
  `BaseRouteHandler.parsed_fn_signature`, `paths`, `ownership_layers` (their `path`) and
  `resolve_dependencies()` (whose providers carry a
  `parsed_fn_signature`), the `data` argument for the body, and ParameterKwarg's bounds, `header` and `query`;
- body.py: `Request.json()` as the one place Litestar takes a JSON body from for `data`, and the request's
  `scope["state"]` to keep the validated body in;
- controllers.py: `Controller.__init__(owner)`, called with the app as the owner for controllers
  registered on the app;
- supervisor.py: uvicorn.run()'s multi-worker path (`Multiprocess(config, sockets=[config.bind_socket()])`),
  and `Multiprocess` calling `handle_hup` for SIGHUP, with its workers in `processes` (`pid`, `is_ready()`).
"""
