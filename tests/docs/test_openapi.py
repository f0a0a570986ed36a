"""The served /openapi.json stands alone: it is a valid OpenAPI 3.1 document; every operation
has a summary, error responses, and an example of each JSON body and success response; every
example is valid against its schema; and it points at nothing outside itself."""
import json
import urllib.parse
import urllib.request

import jsonschema
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

METHODS = {"get", "put", "post", "patch", "delete"}


def fetch(server):
    with urllib.request.urlopen(server.base + "/openapi.json", timeout=10) as response:
        return json.loads(response.read())


def pointer(*parts):
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def test_the_document_is_valid_complete_and_its_examples_match_their_schemas(server):
    spec = fetch(server)
    validate(spec)
    registry = Registry().with_resource(
        "urn:openapi", Resource.from_contents(spec, default_specification=DRAFT202012))

    def invalid(example, *parts):
        reference = "urn:openapi#" + urllib.parse.quote(pointer(*parts), safe="/~")
        validator = jsonschema.Draft202012Validator({"$ref": reference}, registry=registry)
        return [f"{error.json_path}: {error.message}" for error in validator.iter_errors(example)]

    problems, examples = [], 0
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            name = f"{method.upper()} {path}"
            if not operation.get("summary"):
                problems.append(f"{name}: no summary")
            responses = operation["responses"]
            if not any(status.startswith(("4", "5")) for status in responses):
                problems.append(f"{name}: no error responses")
            bodies = [("request", operation.get("requestBody", {}).get("content", {}), ("requestBody",))]
            bodies += [(status, response.get("content", {}), ("responses", status))
                       for status, response in responses.items() if status.startswith("2")]
            for what, content, where in bodies:
                for media, value in content.items():
                    if not media.endswith("json"):
                        continue
                    if "example" not in value:
                        problems.append(f"{name} {what} {media}: no example")
                        continue
                    examples += 1
                    for error in invalid(value["example"], "paths", path, method, *where, "content", media, "schema"):
                        problems.append(f"{name} {what}: the example is invalid: {error}")
    envelope = spec["components"]["responses"]["Error"]["content"]["application/json"]
    problems += invalid(envelope["example"], "components", "schemas", "Error")
    text = json.dumps(spec)
    for outside in ("docs/", ".md", "DESIGN"):
        if outside in text:
            problems.append(f"the document points outside itself: {outside!r}")
    assert not problems, "\n".join(problems)
    assert examples >= 35


def test_the_examples_are_what_the_server_answers(server):
    """The example of a created channel has the fields a real one has, and no others."""
    spec = fetch(server)
    token = server.token("alice")
    created = server.request("POST", "/v1/channels", {"name": "general", "members": ["bob"]}, token=token)
    example = spec["paths"]["/v1/channels"]["post"]["responses"]["201"]["content"]["application/json"]["example"]
    assert set(example["channel"]) == set(created["channel"])
    posted = server.request(
        "POST", f"/v1/channels/{created['channel']['id']}/messages", {"text": "hello"}, token=token)
    path = "/v1/channels/{channelId}/messages"
    example = spec["paths"][path]["post"]["responses"]["201"]["content"]["application/json"]["example"]
    assert set(example["message"]) == set(posted["message"])
