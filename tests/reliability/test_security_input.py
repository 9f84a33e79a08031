"""Hostile request input: path traversal, enormous and malformed targets,
bytes that are not UTF-8, NUL, CR/LF, bad Host headers. Always a 4xx,
never a 500, never a file read: through the Flask test client (with an
audit hook watching every file the process opens) and, where the server
parses the request itself, as raw bytes to granian (`feedsvc serve`)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.app import create_app
from tests.support.processes import free_port, running, wait_for
from tests.support.checks import examples
from tests.support.paths import PACKAGE
from tests.support.stores import instance_folder

SECRETS = (b"def create_app", b"root:x:0:0", b"SETTINGS", b"[article]")


class FileWatch:
    """Every file the process opens while `active`, from Python's audit
    hook (hooks cannot be removed, so one is installed per session)."""

    opened: list[str] = []
    active = False
    installed = False

    @classmethod
    def install(cls) -> None:
        if not cls.installed:
            sys.addaudithook(cls._hook)
            cls.installed = True

    @classmethod
    def _hook(cls, event, args):
        if cls.active and event == "open" and isinstance(args[0], (str, bytes)):
            cls.opened.append(str(args[0]))

    @classmethod
    def during(cls, call):
        cls.opened, cls.active = [], True
        try:
            return call()
        finally:
            cls.active = False


def assert_no_file_read(opened: list[str]) -> None:
    # Imports a view makes on first use are compiled modules; anything else is a read.
    reads = [path for path in opened if "__pycache__" not in path]
    assert reads == [], reads


def write_recipe(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    # A source that never answers: these tests are about requests, not items.
    (folder / "quiet.toml").write_text('id = "quiet"\nname = "Quiet"\nkind = "article_page"\n'
                                       'start_urls = ["http://127.0.0.1:9/a.html"]\n'
                                       '[article]\ntitle = "h1"\n', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("input")
    app = create_app({"INSTANCE_PATH": instance_folder(folder / "instance"), "RECIPES_PATH": str(write_recipe(folder / "feeds")),
                      "ADMIN_RATE_LIMIT_PER_MINUTE": 0})
    client = app.test_client()
    for path in ("/", "/feeds/all.atom", "/feeds/all.json", "/static/feed.xsl", "/api/items", "/nope"):
        client.get(path)  # lazy imports and mime tables are loaded before watching
    FileWatch.install()
    yield client
    app.extensions["feedsvc"].store.engine.dispose()


LONG = "a" * 100_000
# (method, path, environ overrides, expected status)
CASES = {
    "outlet_encoded_traversal": ("GET", "/feeds/outlet/..%2F..%2Fetc%2Fpasswd.atom", {}, 404),
    "outlet_dot_segments": ("GET", "/feeds/outlet/../../../etc/passwd.atom", {}, 404),
    "outlet_traversal_to_package": ("GET", "/feeds/outlet/%2e%2e/%2e%2e/feedsvc/app.py", {}, 404),
    "source_dot_segments": ("GET", "/feeds/source/../../x.rss", {}, 404),
    "source_encoded_traversal": ("GET", "/feeds/source/..%2F..%2Fapp.rss", {}, 404),
    "static_dot_segments": ("GET", "/static/../app.py", {}, 404),
    "static_encoded_slash": ("GET", "/static/..%2fapp.py", {}, 404),
    "static_encoded_dots": ("GET", "/static/%2e%2e/app.py", {}, 404),
    "static_backslash": ("GET", "/static/..%5capp.py", {}, 404),
    "static_nul_suffix": ("GET", "/static/feed.xsl%00.py", {}, 400),
    "query_100k": ("GET", "/feeds/all.atom?q=" + LONG, {}, 414),
    "unknown_param_100k": ("GET", "/api/items?x=" + LONG, {}, 414),
    "path_10k": ("GET", "/" + "a" * 10_000, {}, 414),
    "outlet_name_9k": ("GET", "/feeds/outlet/" + "%E4%B8%AD" * 3000 + ".atom", {}, 414),
    "percent_zz": ("GET", "/feeds/all.atom?q=%ZZ", {}, 400),
    "percent_truncated_utf8": ("GET", "/feeds/all.atom?q=%E4%B8", {}, 400),
    "percent_alone": ("GET", "/feeds/all.rss?outlet=100%", {}, 400),
    "api_percent_zz": ("GET", "/api/items?outlet=%ZZ", {}, 400),
    "raw_query_not_utf8": ("GET", "/feeds/all.atom", {"QUERY_STRING": "q=\xff\xfe"}, 400),
    "raw_path_not_utf8": ("GET", "/feeds/outlet/x", {"PATH_INFO": "/feeds/outlet/\xe4\xb8.atom"}, 400),
    "nul_in_query_text": ("GET", "/feeds/all.atom?q=a%00b", {}, 400),
    "nul_in_query_number": ("GET", "/feeds/all.atom?limit=1%00", {}, 400),
    "nul_in_outlet_param": ("GET", "/api/items?outlet=%00", {}, 400),
    "nul_in_path": ("GET", "/feeds/outlet/a%00b.atom", {}, 400),
    "crlf_in_path": ("GET", "/feeds/outlet/x%0d%0aSet-Cookie:%20a=1.atom", {}, 400),
    "crlf_in_refresh_path": ("POST", "/refresh/%0d%0aLocation:%20http://evil.example/", {}, 400),
    "crlf_in_cursor": ("GET", "/feeds/all.atom?before=%0d%0aLocation:%20http://evil.example/", {}, 400),
    "bad_host": ("GET", "/feeds/all.atom", {"HTTP_HOST": 'a"?><x'}, 400),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_target_is_a_4xx_without_file_reads(client, case):
    method, path, environ, expected = CASES[case]
    response = FileWatch.during(lambda: client.open(path, method=method, environ_overrides=environ))
    assert response.status_code == expected, response.get_data(as_text=True)[:300]
    assert not any(secret in response.data for secret in SECRETS)
    for name, value in response.headers.items():
        assert "\r" not in value and "\n" not in value and name.lower() not in ("set-cookie", "location")
    assert_no_file_read(FileWatch.opened)


def test_doubled_slash_is_merged_not_followed(client):
    """Werkzeug answers /static//etc/passwd with a redirect to the merged
    path, which stays inside /static and is not there."""
    response = FileWatch.during(lambda: client.get("/static//etc/passwd"))
    assert response.status_code == 308 and response.headers["Location"] == "http://localhost/static/etc/passwd"
    assert_no_file_read(FileWatch.opened)
    assert FileWatch.during(lambda: client.get("/static/etc/passwd")).status_code == 404
    assert_no_file_read(FileWatch.opened)


def test_crlf_in_a_parameter_never_reaches_a_header(client):
    """A filter value is echoed in the feed's own links, percent-encoded,
    and in no header."""
    response = client.get("/feeds/all.atom?q=a%0d%0aSet-Cookie:%20evil=1&outlet=")
    assert response.status_code in (200, 400)
    assert all("evil" not in value for value in response.headers.values())
    response = client.get("/feeds/all.atom?q=a%0d%0aSet-Cookie:%20evil=1")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert b"q=a%0D%0ASet-Cookie%3A+evil%3D1" in response.data  # in the self link, encoded


def test_api_errors_keep_their_json_shape(client):
    for path in ("/api/items?q=%ZZ", "/api/items?x=" + LONG):
        response = client.get(path)
        assert response.status_code in (400, 414) and response.get_json()["parameter"] is None
        assert response.headers["Access-Control-Allow-Origin"] == "*"


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=60), prefix=st.sampled_from(["/", "/static/", "/feeds/outlet/", "/feeds/source/",
                                                          "/api/", "/feeds/"]))
def test_random_path_bytes_are_never_a_500(client, raw, prefix):
    path = prefix + raw.decode("latin-1")  # as a server hands raw bytes to WSGI
    response = FileWatch.during(lambda: client.get("/", environ_overrides={"PATH_INFO": path}))
    assert response.status_code < 500, path
    opened = [p for p in FileWatch.opened if not Path(p).resolve().is_relative_to(PACKAGE / "static")]
    assert_no_file_read(opened)


# -- raw bytes to a served process -------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served")
    env = {"FEEDSVC_INSTANCE_PATH": str(folder / "instance"),
           "FEEDSVC_RECIPES_PATH": str(write_recipe(folder / "feeds")),
           "FEEDSVC_ADMIN_RATE_LIMIT_PER_MINUTE": "0"}
    port = free_port()
    with running(["serve", "--port", str(port)], env) as proc:
        wait_for(f"http://127.0.0.1:{port}/healthz", proc=proc)
        yield port, proc


def send_raw(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def get(target: bytes, headers: bytes = b"Host: 127.0.0.1\r\n") -> bytes:
    return b"GET " + target + b" HTTP/1.1\r\n" + headers + b"Connection: close\r\n\r\n"


RAW_CASES = {
    "static_dot_segments": (get(b"/static/../app.py"), 404),
    "static_to_etc_passwd": (get(b"/static/../../../../../../etc/passwd"), 404),
    "encoded_dots_at_root": (get(b"/%2e%2e/%2e%2e/etc/passwd"), 404),
    "outlet_encoded_traversal": (get(b"/feeds/outlet/..%2F..%2Fetc%2Fpasswd.atom"), 404),
    "source_dot_segments": (get(b"/feeds/source/../../x.rss"), 404),
    "query_100k": (get(b"/feeds/all.atom?q=" + b"a" * 100_000), 414),
    "path_5k": (get(b"/" + b"a" * 5000), 404),
    "path_9k": (get(b"/" + b"a" * 9000), 414),
    "percent_zz": (get(b"/feeds/all.atom?q=%ZZ"), 400),
    "raw_bytes_not_utf8_in_query": (get(b"/feeds/all.atom?q=\xff\xfe"), 400),
    "raw_bytes_not_utf8_in_path": (get(b"/feeds/outlet/\xe4\xb8.atom"), 400),
    "encoded_bytes_not_utf8_in_path": (get(b"/feeds/outlet/%E4%B8.atom"), 400),
    "raw_nul_in_path": (get(b"/feeds/outlet/a\x00b.atom"), 400),
    "encoded_nul_in_path": (get(b"/feeds/outlet/a%00b.atom"), 400),
    "crlf_splitting_the_request_line": (get(b"/feeds/all.atom?q=a\r\nX-Injected: 1"), 400),
    "cr_inside_a_header": (get(b"/feeds/all.atom", b"Host: 127.0.0.1\r\nX-Evil: a\rb\r\n"), 400),
    "nul_inside_a_header": (get(b"/feeds/all.atom", b"Host: 127.0.0.1\r\nX-Evil: a\x00b\r\n"), 400),
    "header_10k": (get(b"/feeds/all.atom", b"Host: 127.0.0.1\r\nX-Big: " + b"b" * 10_000 + b"\r\n"), 431),
    "200_headers": (get(b"/feeds/all.atom", b"Host: 127.0.0.1\r\n" + b"".join(b"X-%d: 1\r\n" % n for n in range(200))),
                    431),
    "bad_host": (get(b"/feeds/all.atom", b'Host: a"?><x\r\n'), 400),
    # Transfer-Encoding overrides Content-Length (RFC 9112 6.3): the body is
    # the empty chunked one, and what Content-Length would have left over
    # is never read as a second request.
    "length_and_chunked": (b"POST /refresh HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 40\r\n"
                           b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
                           200),
    "unknown_http_version": (b"GET /feeds/all.atom HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n", 400),
    "garbage_request_line": (b"GARBAGE\r\n\r\n", 400),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(RAW_CASES))
def test_raw_request_to_the_server_is_refused(server, case):
    port, _ = server
    request, expected = RAW_CASES[case]
    answer = send_raw(port, request)
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 %d" % expected), status_line
    assert b"smuggled" not in answer and answer.count(b"HTTP/1.1 ") == 1, answer[:2000]
    assert not any(secret in answer for secret in SECRETS)


@pytest.mark.slow
def test_served_process_logged_no_error(server):
    """Runs after the raw cases (same module, same process): it still
    answers, and nothing it was sent made it log a server error."""
    port, proc = server
    assert send_raw(port, get(b"/healthz")).startswith(b"HTTP/1.1 200")
    proc.terminate()
    output = proc.communicate(timeout=20)[0]
    assert "Traceback" not in output and "Exception on" not in output, output[-3000:]
