"""Drives Atrium's /v2 API with the hosted platform's own Python client.

Run by tests/clarifai_client.rs against a live test server. It uses the
clarifai-grpc JSON channel exactly as a user would (PostApps, ListApps, GetApp,
PatchApp, DeleteApp), checks every answer, and exits non-zero with a message on
the first mismatch.

Environment: ATRIUM_BASE_URL (http://127.0.0.1:PORT), ATRIUM_PAT (a personal
access token with apps:read and apps:write), ATRIUM_USER_ID (its user's id).
Needs: pip install clarifai-grpc 'protobuf<7' requests
"""

import os
import sys

try:
    from clarifai_grpc.channel.clarifai_channel import ClarifaiChannel
    from clarifai_grpc.grpc.api import resources_pb2, service_pb2, service_pb2_grpc
    from clarifai_grpc.grpc.api.status import status_code_pb2
except ImportError as e:  # pragma: no cover - reported to the Rust test
    sys.exit(
        f"clarifai_grpc is not importable ({e}). Run tests/run, or: "
        "pip install clarifai-grpc 'protobuf<7' requests"
    )

BASE = os.environ["ATRIUM_BASE_URL"]
PAT = os.environ["ATRIUM_PAT"]
USER = os.environ["ATRIUM_USER_ID"]

checks = 0


def check(cond, message):
    global checks
    checks += 1
    if not cond:
        sys.exit(f"MISMATCH: {message}")


def code_name(code):
    try:
        return status_code_pb2.StatusCode.Name(code)
    except ValueError:
        return str(code)


def expect_status(response, expected, what):
    got = response.status.code
    check(
        got == expected,
        f"{what}: expected status {code_name(expected)} ({expected}), got "
        f"{code_name(got)} ({got}): {response.status.description} / {response.status.details}",
    )
    check(response.status.req_id != "", f"{what}: the status has no req_id")


channel = ClarifaiChannel.get_json_channel(base_url=BASE)
stub = service_pb2_grpc.V2Stub(channel)
metadata = (("authorization", "Key " + PAT),)
user = resources_pb2.UserAppIDSet(user_id=USER)


def app_ref(app_id):
    return resources_pb2.UserAppIDSet(user_id=USER, app_id=app_id)


PUBLIC = resources_pb2.Visibility(gettable=resources_pb2.Visibility.PUBLIC)
PRIVATE = resources_pb2.Visibility(gettable=resources_pb2.Visibility.PRIVATE)
UNICODE_NAME = "Zwei \u2013 \u00fc \u2713 <b>bold</b>"

# PostApps: two apps in one request.
created = stub.PostApps(
    service_pb2.PostAppsRequest(
        user_app_id=user,
        apps=[
            resources_pb2.App(
                id="client-one",
                name="Client One",
                description="made by clarifai-grpc",
                visibility=PUBLIC,
            ),
            resources_pb2.App(id="client-two", name=UNICODE_NAME, visibility=PRIVATE),
        ],
    ),
    metadata=metadata,
)
expect_status(created, status_code_pb2.SUCCESS, "PostApps")
check([a.id for a in created.apps] == ["client-one", "client-two"],
      f"PostApps returned ids {[a.id for a in created.apps]}")
one, two = created.apps
check(one.name == "Client One", f"PostApps name: {one.name!r}")
check(one.description == "made by clarifai-grpc", f"PostApps description: {one.description!r}")
check(one.user_id == USER, f"PostApps user_id: {one.user_id!r}")
check(one.visibility.gettable == resources_pb2.Visibility.PUBLIC,
      f"PostApps visibility: {one.visibility.gettable}")
check(one.created_at.seconds > 1_600_000_000, f"PostApps created_at: {one.created_at}")
check(two.name == UNICODE_NAME, f"PostApps kept the unicode name: {two.name!r}")
check(two.visibility.gettable == resources_pb2.Visibility.PRIVATE,
      f"PostApps private visibility: {two.visibility.gettable}")

# A duplicate id is refused and nothing else of that request is written.
dup = stub.PostApps(
    service_pb2.PostAppsRequest(
        user_app_id=user,
        apps=[resources_pb2.App(id="client-three"), resources_pb2.App(id="client-one")],
    ),
    metadata=metadata,
)
expect_status(dup, status_code_pb2.DATABASE_DUPLICATE_KEY, "PostApps with a taken id")

# ListApps: sorted by name, ascending; the refused batch left nothing behind.
listed = stub.ListApps(
    service_pb2.ListAppsRequest(
        user_app_id=user, per_page=50, sort_by_name=True, sort_ascending=True
    ),
    metadata=metadata,
)
expect_status(listed, status_code_pb2.SUCCESS, "ListApps")
check([a.id for a in listed.apps] == ["client-one", "client-two"],
      f"ListApps ids (name ascending): {[a.id for a in listed.apps]}")

descending = stub.ListApps(
    service_pb2.ListAppsRequest(user_app_id=user, sort_by_name=True, sort_ascending=False),
    metadata=metadata,
)
check([a.id for a in descending.apps] == ["client-two", "client-one"],
      f"ListApps ids (name descending): {[a.id for a in descending.apps]}")

page2 = stub.ListApps(
    service_pb2.ListAppsRequest(
        user_app_id=user, page=2, per_page=1, sort_by_name=True, sort_ascending=True
    ),
    metadata=metadata,
)
check([a.id for a in page2.apps] == ["client-two"], f"ListApps page 2: {[a.id for a in page2.apps]}")

searched = stub.ListApps(service_pb2.ListAppsRequest(user_app_id=user, name="ZWEI"), metadata=metadata)
expect_status(searched, status_code_pb2.SUCCESS, "ListApps by name")
check([a.id for a in searched.apps] == ["client-two"], f"ListApps name=ZWEI: {[a.id for a in searched.apps]}")

# Without user_app_id the client addresses the key's own user as "me".
mine = stub.ListApps(service_pb2.ListAppsRequest(), metadata=metadata)
expect_status(mine, status_code_pb2.SUCCESS, "ListApps as me")
check(sorted(a.id for a in mine.apps) == ["client-one", "client-two"],
      f"ListApps as me: {[a.id for a in mine.apps]}")

# GetApp
got = stub.GetApp(service_pb2.GetAppRequest(user_app_id=app_ref("client-one")), metadata=metadata)
expect_status(got, status_code_pb2.SUCCESS, "GetApp")
check(got.app.id == "client-one" and got.app.name == "Client One", f"GetApp: {got.app}")
check(got.app.description == "made by clarifai-grpc", f"GetApp description: {got.app.description!r}")

missing = stub.GetApp(service_pb2.GetAppRequest(user_app_id=app_ref("no-such-app")), metadata=metadata)
expect_status(missing, status_code_pb2.CONN_DOES_NOT_EXIST, "GetApp of a missing app")

# PatchApp: overwrite the name and description, keep the id.
patched = stub.PatchApp(
    service_pb2.PatchAppRequest(
        user_app_id=app_ref("client-one"),
        app=resources_pb2.App(id="client-one", name="Client One v2", description="patched"),
        action="overwrite",
    ),
    metadata=metadata,
)
expect_status(patched, status_code_pb2.SUCCESS, "PatchApp")
check(patched.app.id == "client-one", f"PatchApp id: {patched.app.id!r}")
check(patched.app.name == "Client One v2", f"PatchApp name: {patched.app.name!r}")
check(patched.app.description == "patched", f"PatchApp description: {patched.app.description!r}")
check(patched.app.visibility.gettable == resources_pb2.Visibility.PUBLIC,
      "PatchApp kept the visibility it was not asked to change")
again = stub.GetApp(service_pb2.GetAppRequest(user_app_id=app_ref("client-one")), metadata=metadata)
check(again.app.name == "Client One v2" and again.app.description == "patched",
      f"GetApp after PatchApp: {again.app.name!r} {again.app.description!r}")

bad_action = stub.PatchApp(
    service_pb2.PatchAppRequest(
        user_app_id=app_ref("client-one"), app=resources_pb2.App(name="x"), action="explode"
    ),
    metadata=metadata,
)
expect_status(bad_action, status_code_pb2.CONN_INVALID_REQUEST, "PatchApp with an unknown action")

# DeleteApp, then the listing no longer has it.
deleted = stub.DeleteApp(service_pb2.DeleteAppRequest(user_app_id=app_ref("client-one")), metadata=metadata)
expect_status(deleted, status_code_pb2.SUCCESS, "DeleteApp")
after = stub.ListApps(service_pb2.ListAppsRequest(user_app_id=user), metadata=metadata)
expect_status(after, status_code_pb2.SUCCESS, "ListApps after DeleteApp")
check([a.id for a in after.apps] == ["client-two"], f"ListApps after DeleteApp: {[a.id for a in after.apps]}")
gone = stub.GetApp(service_pb2.GetAppRequest(user_app_id=app_ref("client-one")), metadata=metadata)
expect_status(gone, status_code_pb2.CONN_DOES_NOT_EXIST, "GetApp after DeleteApp")

# A wrong key gets a status, not a crash.
wrong = stub.ListApps(
    service_pb2.ListAppsRequest(user_app_id=user),
    metadata=(("authorization", "Key not-a-real-key"),),
)
expect_status(wrong, status_code_pb2.CONN_KEY_NOT_FOUND, "ListApps with an unknown key")

print(f"clarifai-grpc JSON channel: all {checks} checks passed")
