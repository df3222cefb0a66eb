"""Drives Atrium's content API with the hosted platform's own Python client.

Run by tests/clarifai_client.rs against a live test server: the whole loop a
user of clarifai-grpc's JSON channel goes through — PostInputs with concepts,
PostModels, PostModelVersions, GetModelVersion polled until MODEL_TRAINED,
PostModelOutputs — plus the calls around it (ListModelTypes, ListInputs,
PatchInputs, PostConceptsSearches, GetModel, ListModelVersions, refusals).
Every answer is checked; the first mismatch exits non-zero with a message.

Environment: ATRIUM_BASE_URL, ATRIUM_PAT (a key with every scope),
ATRIUM_USER_ID, ATRIUM_TEXTS (a JSON file of [text, concept] pairs).
"""

import json
import os
import sys
import time

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
with open(os.environ["ATRIUM_TEXTS"], encoding="utf-8") as f:
    TEXTS = json.load(f)

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


stub = service_pb2_grpc.V2Stub(ClarifaiChannel.get_json_channel(base_url=BASE))
metadata = (("authorization", "Key " + PAT),)
APP = resources_pb2.UserAppIDSet(user_id=USER, app_id="loop-app")

created = stub.PostApps(
    service_pb2.PostAppsRequest(
        user_app_id=resources_pb2.UserAppIDSet(user_id=USER),
        apps=[resources_pb2.App(id="loop-app", name="Loop")],
    ),
    metadata=metadata,
)
expect_status(created, status_code_pb2.SUCCESS, "PostApps")

# ListModelTypes: the text classifier is there, trainable.
types = stub.ListModelTypes(service_pb2.ListModelTypesRequest(user_app_id=APP), metadata=metadata)
expect_status(types, status_code_pb2.SUCCESS, "ListModelTypes")
by_id = {t.id: t for t in types.model_types}
check("text-classifier" in by_id and by_id["text-classifier"].trainable,
      f"ListModelTypes: {sorted(by_id)}")

# PostInputs with concepts, in two requests.
inputs = [
    resources_pb2.Input(
        id=f"t{i}",
        data=resources_pb2.Data(
            text=resources_pb2.Text(raw=text),
            concepts=[resources_pb2.Concept(id=concept, value=1.0)],
        ),
    )
    for i, (text, concept) in enumerate(TEXTS)
]
half = len(inputs) // 2
for part in (inputs[:half], inputs[half:]):
    posted = stub.PostInputs(service_pb2.PostInputsRequest(user_app_id=APP, inputs=part), metadata=metadata)
    expect_status(posted, status_code_pb2.SUCCESS, "PostInputs")
    check([i.id for i in posted.inputs] == [i.id for i in part], "PostInputs ids")
    check(all(i.status.code == status_code_pb2.INPUT_SUCCESS for i in posted.inputs),
          "PostInputs per-input status")
    check(posted.inputs[0].data.concepts[0].id == part[0].data.concepts[0].id,
          f"PostInputs kept the concept: {posted.inputs[0].data.concepts}")

dup = stub.PostInputs(service_pb2.PostInputsRequest(user_app_id=APP, inputs=inputs[:1]), metadata=metadata)
expect_status(dup, status_code_pb2.DATABASE_DUPLICATE_KEY, "PostInputs with a taken id")

listed = stub.ListInputs(service_pb2.ListInputsRequest(user_app_id=APP, per_page=1000), metadata=metadata)
expect_status(listed, status_code_pb2.SUCCESS, "ListInputs")
check(len(listed.inputs) == len(TEXTS), f"ListInputs count: {len(listed.inputs)}")

got = stub.GetInput(service_pb2.GetInputRequest(user_app_id=APP, input_id="t0"), metadata=metadata)
expect_status(got, status_code_pb2.SUCCESS, "GetInput")
check(got.input.data.text.raw == TEXTS[0][0], f"GetInput text: {got.input.data.text.raw!r}")

# PatchInputs: merge a second concept onto one input, then remove it again.
merged = stub.PatchInputs(
    service_pb2.PatchInputsRequest(
        user_app_id=APP,
        action="merge",
        inputs=[resources_pb2.Input(id="t0", data=resources_pb2.Data(
            concepts=[resources_pb2.Concept(id="extra", value=1.0)]))],
    ),
    metadata=metadata,
)
expect_status(merged, status_code_pb2.SUCCESS, "PatchInputs merge")
check(sorted(c.id for c in merged.inputs[0].data.concepts) == sorted([TEXTS[0][1], "extra"]),
      f"PatchInputs merge: {merged.inputs[0].data.concepts}")
removed = stub.PatchInputs(
    service_pb2.PatchInputsRequest(
        user_app_id=APP,
        action="remove",
        inputs=[resources_pb2.Input(id="t0", data=resources_pb2.Data(
            concepts=[resources_pb2.Concept(id="extra")]))],
    ),
    metadata=metadata,
)
expect_status(removed, status_code_pb2.SUCCESS, "PatchInputs remove")
check([c.id for c in removed.inputs[0].data.concepts] == [TEXTS[0][1]],
      f"PatchInputs remove: {removed.inputs[0].data.concepts}")

found = stub.PostConceptsSearches(
    service_pb2.PostConceptsSearchesRequest(
        user_app_id=APP, concept_query=resources_pb2.ConceptQuery(name="spor")),
    metadata=metadata,
)
expect_status(found, status_code_pb2.SUCCESS, "PostConceptsSearches")
check([c.id for c in found.concepts] == ["sports"], f"PostConceptsSearches: {found.concepts}")

# PostModels: a text classifier of the two concepts.
model = stub.PostModels(
    service_pb2.PostModelsRequest(
        user_app_id=APP,
        model=resources_pb2.Model(
            id="topics",
            name="Topics",
            model_type_id="text-classifier",
            output_info=resources_pb2.OutputInfo(data=resources_pb2.Data(
                concepts=[resources_pb2.Concept(id="sports"), resources_pb2.Concept(id="cooking")])),
        ),
    ),
    metadata=metadata,
)
expect_status(model, status_code_pb2.SUCCESS, "PostModels")
check(model.model.id == "topics" and model.model.model_type_id == "text-classifier",
      f"PostModels: {model.model}")

# Predicting before any training is refused with MODEL_UNTRAINED.
early = stub.PostModelOutputs(
    service_pb2.PostModelOutputsRequest(
        user_app_id=APP, model_id="topics",
        inputs=[resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw="hello")))]),
    metadata=metadata,
)
expect_status(early, status_code_pb2.MODEL_UNTRAINED, "PostModelOutputs before training")

# PostModelVersions, then poll GetModelVersion until MODEL_TRAINED.
trained = stub.PostModelVersions(
    service_pb2.PostModelVersionsRequest(user_app_id=APP, model_id="topics"), metadata=metadata)
expect_status(trained, status_code_pb2.SUCCESS, "PostModelVersions")
version_id = trained.model.model_version.id
check(version_id != "", "PostModelVersions returned a version id")
check(trained.model.model_version.status.code in (
    status_code_pb2.MODEL_QUEUED_FOR_TRAINING, status_code_pb2.MODEL_TRAINING,
    status_code_pb2.MODEL_TRAINED), f"new version status: {trained.model.model_version.status}")

deadline = time.time() + 180
seen = []
while True:
    v = stub.GetModelVersion(
        service_pb2.GetModelVersionRequest(user_app_id=APP, model_id="topics", version_id=version_id),
        metadata=metadata,
    )
    expect_status(v, status_code_pb2.SUCCESS, "GetModelVersion")
    code = v.model_version.status.code
    if not seen or seen[-1] != code:
        seen.append(code)
    if code == status_code_pb2.MODEL_TRAINED:
        break
    check(code in (status_code_pb2.MODEL_QUEUED_FOR_TRAINING, status_code_pb2.MODEL_TRAINING),
          f"version failed: {code_name(code)}: {v.model_version.status.details}")
    check(time.time() < deadline, f"still {code_name(code)} after 3 minutes")
    time.sleep(0.2)
check(v.model_version.total_input_count == len(TEXTS),
      f"total_input_count: {v.model_version.total_input_count}")
check(v.model_version.metrics.summary.macro_avg_f1_score > 0.5,
      f"macro-F1: {v.model_version.metrics.summary.macro_avg_f1_score}")

versions = stub.ListModelVersions(
    service_pb2.ListModelVersionsRequest(user_app_id=APP, model_id="topics"), metadata=metadata)
expect_status(versions, status_code_pb2.SUCCESS, "ListModelVersions")
check([x.id for x in versions.model_versions] == [version_id], "ListModelVersions ids")

# PostModelOutputs: the latest trained version, and the version named.
def top(response):
    return response.outputs[0].data.concepts[0].id

sport = resources_pb2.Input(data=resources_pb2.Data(
    text=resources_pb2.Text(raw="The goalkeeper saved a penalty and the team won the match")))
cook = resources_pb2.Input(data=resources_pb2.Data(
    text=resources_pb2.Text(raw="Bake the cake with butter, sugar and eggs in the oven")))
out = stub.PostModelOutputs(
    service_pb2.PostModelOutputsRequest(user_app_id=APP, model_id="topics", inputs=[sport, cook]),
    metadata=metadata,
)
expect_status(out, status_code_pb2.SUCCESS, "PostModelOutputs")
check(len(out.outputs) == 2, f"PostModelOutputs outputs: {len(out.outputs)}")
check(out.outputs[0].data.concepts[0].id == "sports", f"sports text: {out.outputs[0].data.concepts}")
check(out.outputs[1].data.concepts[0].id == "cooking", f"cooking text: {out.outputs[1].data.concepts}")
check(out.outputs[0].model.model_version.id == version_id, "the latest trained version answered")
check(0.5 < out.outputs[0].data.concepts[0].value <= 1.0,
      f"score: {out.outputs[0].data.concepts[0].value}")

named = stub.PostModelOutputs(
    service_pb2.PostModelOutputsRequest(
        user_app_id=APP, model_id="topics", version_id=version_id, inputs=[cook]),
    metadata=metadata,
)
expect_status(named, status_code_pb2.SUCCESS, "PostModelOutputs with a version")
check(top(named) == "cooking", f"named version: {named.outputs[0].data.concepts}")

empty = stub.PostModelOutputs(
    service_pb2.PostModelOutputsRequest(
        user_app_id=APP, model_id="topics",
        inputs=[resources_pb2.Input(data=resources_pb2.Data(text=resources_pb2.Text(raw="   ")))]),
    metadata=metadata,
)
expect_status(empty, status_code_pb2.CONN_INVALID_REQUEST, "PostModelOutputs with an empty text")

got_model = stub.GetModel(service_pb2.GetModelRequest(user_app_id=APP, model_id="topics"), metadata=metadata)
expect_status(got_model, status_code_pb2.SUCCESS, "GetModel")
check(got_model.model.model_version.id == version_id, "GetModel shows the latest version")
check(sorted(c.id for c in got_model.model.output_info.data.concepts) == ["cooking", "sports"],
      f"GetModel concepts: {got_model.model.output_info.data.concepts}")

missing = stub.GetModel(service_pb2.GetModelRequest(user_app_id=APP, model_id="nope"), metadata=metadata)
expect_status(missing, status_code_pb2.MODEL_DOES_NOT_EXIST, "GetModel of a missing model")

print(f"clarifai-grpc content loop: statuses seen {[code_name(c) for c in seen]}; all {checks} checks passed")
