"""Schemathesis hooks for infra/local/fuzz.sh: what the local emulator (`cargo lambda watch`, which
serves the functions on the local stack) gets wrong by itself, and nothing else.

When the emulator fails, it answers with its own document, never with ours:
`500 text/plain {"type":"https://httpstatuses.com/500","status":500,"title":"Internal Server Error"}`.
Our functions answer every request with `application/json` and the `{success, ...}` envelope, a
500 included (`{"success":false,"error":{"code":"INTERNAL",...}}`). Three cases, found by the
first runs of fuzz.sh and checked by hand with curl against the stack:

1. A body that is not valid UTF-8 sent with a text or JSON Content-Type (or none). The emulator
   turns such bodies into the event's string with `String::from_utf8` and gives up: 500 in 0 ms,
   and no function runs (nothing in the functions' log). Dropped by `filter_case`. The same bytes
   under any other Content-Type reach the function (base64-encoded) and are fuzzed as usual.
2. A header value with a byte outside visible ASCII and tab (`http::HeaderValue::to_str`), on any
   route, e.g. `GET /api/events` whose handler reads no header: the emulator cannot serialise the
   event's headers. Again 500 in 0 ms and no function runs. Dropped by `filter_case`.
3. Rarely (0 to 3 times in a run of fuzz.sh's ~4000 requests; by hand about 1 in 400 under
   load), and only ever on `GET /api/events`, whose pages (15-50 KB) are the largest answers,
   the emulator loses the function's answer: the function logs no error and no panic, yet the
   client gets the emulator's 500, in 13-21 ms; the same request again answers normally. (Most
   likely, from cargo-lambda's source: its runtime API acknowledges a function's answer before
   reading the body, which is read later for the waiting client; a failed read there is this
   500.) A failure whose response is exactly that document is dropped by `filter_failure` only
   if the identical request, sent once more, gets an answer from our function that passes every
   check of the run; if the emulator's 500 comes again, or the second answer fails a check, the
   failure is kept.

What our handlers answer to (1) and (2) is tested where a transport can carry them, in-process:
`tests/src/hostile.rs` (400 INVALID_JSON for invalid UTF-8, 400 VALIDATION_ERROR for a non-ASCII
`Idempotency-Key`). Every other request and every other failure is left alone.
"""

import requests

import schemathesis
from schemathesis.core.failures import FailureGroup

EMULATOR_500 = b'{"type":"https://httpstatuses.com/500","status":500,"title":"Internal Server Error"}'


def _is_text_media_type(media_type):
    # The emulator's own test: no Content-Type, `text/*` or `application/json*` is decoded as text.
    return media_type is None or media_type.startswith("text/") or media_type.startswith("application/json")


def _body_breaks_the_emulator(case):
    body = case.body
    if not isinstance(body, (bytes, bytearray)) or not _is_text_media_type(case.media_type):
        return False
    try:
        bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _header_breaks_the_emulator(value):
    # http::HeaderValue::to_str: visible ASCII (0x20..=0x7E) and tab only.
    return any(not (c == "\t" or " " <= c <= "~") for c in str(value))


@schemathesis.hook
def filter_case(context, case):
    if _body_breaks_the_emulator(case):
        return False
    headers = case.headers or {}
    return not any(_header_breaks_the_emulator(v) for v in headers.values())


def _is_emulator_500(response):
    content_type = ",".join(response.headers.get("content-type", []))
    return response.status_code == 500 and content_type.startswith("text/plain") and response.content == EMULATOR_500


# Verdicts per response already judged (one response can fail several checks), and whether a
# resend is being validated (its own failures must all count).
_verdicts = {}
_resending = False


def _resend_passes(case, response):
    global _resending
    try:
        with requests.Session() as session:
            again = session.send(response.request.copy(), timeout=60, allow_redirects=False)
    except requests.RequestException:
        return False
    again = schemathesis.Response.from_requests(again, verify=response.verify)
    if _is_emulator_500(again):
        return False
    _resending = True
    try:
        case.validate_response(again)
    except (FailureGroup, Exception):
        return False
    finally:
        _resending = False
    return True


@schemathesis.hook
def filter_failure(context, failure, case, response):
    if _resending or not _is_emulator_500(response):
        return True
    key = id(response)
    if key not in _verdicts:
        # Keep the failure unless the same request, sent again, is answered by our function
        # and that answer passes every check. (The response is kept so that its id is not reused.)
        keep = not _resend_passes(case, response)
        _verdicts[key] = (response, keep)
        if not keep:
            print(f"fuzz_hooks: the emulator lost the answer to {response.request.method} "
                  f"{response.request.url}; sent again, it passed every check")
    return _verdicts[key][1]
