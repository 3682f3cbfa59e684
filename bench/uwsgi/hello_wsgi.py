"""Hello world as a WSGI app: the uWSGI side of `npm run bench:uwsgi`, the same bytes and headers as
examples/hello (tsgi adds Content-Length to a one-chunk body; here the app sets it)."""

BODY = b"Hello, world!\n"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
