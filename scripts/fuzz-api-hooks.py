"""Schemathesis hooks for scripts/fuzz-api.sh (loaded through SCHEMATHESIS_HOOKS).

Three things keep a fuzz run from defeating itself or crying wolf:

* Bearer tokens: a fresh access token per API operation (one login per operation, cached by the
  operation's label) for the principal FUZZ_AS names: `admin` (the bootstrap admin; an admin is
  a user too, so every route works with its token) or `user` (a plain user, for the admin routes'
  403 answers). Whatever one operation does to the bearer's sessions (`logout`, `logout-all`,
  ...) cannot leave the next one without a working token.
* One active admin at all times: `PATCH /api/admin/users/{id}` is fuzzed in full (promote,
  demote, deactivate, reactivate), but a user it promotes to an active admin is demoted back
  right after the call. So the bootstrap admin stays the last active admin, which the service
  refuses to demote or deactivate (409), and it cannot lose its powers half-way through the run.
  This relies on the auth-service run using one worker (the script passes `--workers 1`): the
  repair happens before the next request is sent.
* Rules a JSON Schema cannot state: a schema-valid request may still be refused for a reason
  the contract gives and no schema can express (a password on the list of common ones, the wrong
  current password, a reset token that was never issued). `filter_failure` drops exactly those
  "schema-valid request rejected" (ST202) findings, recognised by the problem's `type` and field
  errors; any other rejection of valid data still fails the run.

Settings come from the environment the script exports: FUZZ_AUTH_URL, FUZZ_AS, FUZZ_ADMIN_EMAIL,
FUZZ_ADMIN_PASSWORD, FUZZ_ADMIN_ID, FUZZ_USER_EMAIL, FUZZ_USER_PASSWORD.
"""

import json
import os
import urllib.error
import urllib.request

import schemathesis

AUTH_URL = os.environ["FUZZ_AUTH_URL"]
ADMIN_EMAIL = os.environ["FUZZ_ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["FUZZ_ADMIN_PASSWORD"]
ADMIN_ID = os.environ["FUZZ_ADMIN_ID"]
AS = os.environ.get("FUZZ_AS", "admin")
if AS == "admin":
    BEARER = (ADMIN_EMAIL, ADMIN_PASSWORD)
elif AS == "user":
    BEARER = (os.environ["FUZZ_USER_EMAIL"], os.environ["FUZZ_USER_PASSWORD"])
else:
    raise ValueError(f"FUZZ_AS must be admin or user, not {AS!r}")

# Well below the access token's lifetime (AUTH_ACCESS_TOKEN_TTL_SECS, 900 s by default).
TOKEN_REFRESH_SECS = 300


def _request(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(AUTH_URL + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return resp.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def access_token(email, password):
    status, body = _request("POST", "/api/auth/login", {"email": email, "password": password})
    if status != 200:
        raise RuntimeError(f"fuzz login as {email} failed: {status} {body}")
    return body["access_token"]


def admin_token():
    return access_token(ADMIN_EMAIL, ADMIN_PASSWORD)


def _per_operation(case, _ctx):
    return case.operation.label


@schemathesis.auth(refresh_interval=TOKEN_REFRESH_SECS, cache_by_key=_per_operation)
class FreshToken:
    def get(self, case, ctx):
        return access_token(*BEARER)

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


@schemathesis.hook
def after_call(ctx, case, response):
    op = case.operation
    if op.method.upper() != "PATCH" or op.path != "/api/admin/users/{id}":
        return
    if response.status_code != 200:
        return
    try:
        user = response.json()
    except ValueError:
        return  # response_schema_conformance reports it
    if user.get("id") != ADMIN_ID and user.get("role") == "admin" and user.get("is_active"):
        status, body = _request(
            "PATCH", f"/api/admin/users/{user['id']}", {"role": "user"}, admin_token()
        )
        if status != 200:
            raise RuntimeError(f"could not demote {user['id']} back to user: {status} {body}")


# (operation, status) -> what the refusal must be to be one of the contract's rules that no schema
# can express. Field errors: every error must be one of these (field, message) pairs.
_COMMON = "is too common; choose one that is not on lists of leaked passwords"
_OWN_EMAIL = "must not be your email address"
SEMANTIC_REFUSALS = {
    # docs/API.md, "Passwords": 8 to 128 characters, not on a list of common passwords, not the
    # account's email; else 422. The schema states the length; the list and the email rule it cannot.
    ("POST /api/auth/register", 422): {("password", _COMMON), ("password", _OWN_EMAIL)},
    # "Wrong current password: 422 with a field error on current_password"; the fuzzer cannot
    # know the admin's password (and must not change it), and the new one follows the rules above.
    ("POST /api/auth/password/change", 422): {
        ("current_password", "is not your current password"),
        ("new_password", _COMMON),
        ("new_password", _OWN_EMAIL),
    },
    ("POST /api/auth/password/reset", 422): {("new_password", _COMMON), ("new_password", _OWN_EMAIL)},
}
# "Unknown, used or expired token: 400": reset tokens only ever reach the account's owner.
SEMANTIC_PROBLEM_TYPES = {("POST /api/auth/password/reset", 400): "urn:problem:invalid-reset-token"}


@schemathesis.hook
def filter_failure(ctx, failure, case, response):
    """False drops the failure: only ST202 refusals the contract prescribes are dropped."""
    if getattr(failure, "code", None) != "ST202":
        return True
    key = (case.operation.label, response.status_code)
    try:
        problem = response.json()
    except ValueError:
        return True
    if not isinstance(problem, dict):
        return True
    if key in SEMANTIC_PROBLEM_TYPES:
        return problem.get("type") != SEMANTIC_PROBLEM_TYPES[key]
    allowed = SEMANTIC_REFUSALS.get(key)
    errors = problem.get("errors")
    if not allowed or not isinstance(errors, list) or not errors:
        return True
    prescribed = all(
        isinstance(e, dict) and (e.get("field"), e.get("message")) in allowed for e in errors
    )
    return not prescribed
