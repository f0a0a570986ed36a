"""An unmodified boto3 `dynamodbstreams` client against a running chatlog: what an existing
AWS stream consumer sees when only its endpoint_url changes."""
import http.client
import json
import random
import threading
import time
import urllib.parse

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError


def read_all(client, stream_arn, iterator_type="TRIM_HORIZON"):
    """Every record of every shard, from the iterator type to the end, shard by shard."""
    records = {}
    description = client.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    for shard in description["Shards"]:
        iterator = client.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType=iterator_type)["ShardIterator"]
        shard_records = []
        while True:
            page = client.get_records(ShardIterator=iterator, Limit=1000)
            shard_records += page["Records"]
            iterator = page["NextShardIterator"]
            if not page["Records"]:
                break
        records[shard["ShardId"]] = shard_records
    return records


def arns(client):
    return {stream["TableName"]: stream["StreamArn"] for stream in client.list_streams()["Streams"]}


def one_channel(server, name):
    """A channel of alice's on a fresh server, with a streams client: (alice's token, client,
    channel id, chat_events' ARN, the shard holding the channel, the records read)."""
    alice = server.token("alice")
    client = server.streams_client(server.api_key("streams:read"))
    channel_id = server.request("POST", "/v1/channels", {"name": name}, token=alice)["channel"]["id"]
    stream = arns(client)["chat_events"]
    records = read_all(client, stream)
    shard_id = next(shard for shard, items in records.items() if items)
    return alice, client, channel_id, stream, shard_id, records


def error_of(call):
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def s(image, name):
    return image[name]["S"]


def test_every_change_arrives_once_in_order_with_its_images(server):
    alice = server.token("alice")
    key = server.api_key("streams:read", "events")
    channel = server.request("POST", "/v1/channels", {"name": "general", "members": ["bob"]}, token=alice)["channel"]
    channel_id = channel["id"]
    texts = ["first", "second", "third"]
    messages = [
        server.request("POST", f"/v1/channels/{channel_id}/messages", {"text": text, "metadata": {
            "n": index, "tags": ["a", {"deep": [None, True, 1.5]}]}}, token=alice)["message"]
        for index, text in enumerate(texts)]
    server.request("PATCH", f"/v1/channels/{channel_id}/messages/{messages[1]['id']}", {"text": "second, edited"},
                   token=alice)
    server.request("PATCH", f"/v1/channels/{channel_id}/messages/{messages[1]['id']}", {"text": "second, again"},
                   token=alice)
    server.request("DELETE", f"/v1/channels/{channel_id}/messages/{messages[1]['id']}", token=alice)
    server.request("PATCH", f"/v1/channels/{channel_id}", {"name": "renamed"}, token=alice)
    server.request("POST", f"/v1/channels/{channel_id}/members", {"userId": "carol"}, token=alice)
    events = [server.request("POST", "/v1/events", {"source": "billing", "eventType": "invoice.paid",
                                                   "payload": {"amount": 12.5, "lines": [{"sku": "x"}]}},
                             key=key["key"]) for _ in range(3)]
    server.request("POST", f"/v1/events/{events[0]['eventId']}/ack", key=key["key"])
    server.request("DELETE", f"/v1/events/{events[0]['eventId']}", key=key["key"])
    server.request("DELETE", f"/v1/events/{events[1]['eventId']}", key=key["key"])

    client = server.streams_client(key)
    streams = arns(client)
    assert set(streams) == {"chat_events", "triggers"}
    chat = read_all(client, streams["chat_events"])
    all_records = [record for shard in chat.values() for record in shard]
    assert len({record["eventID"] for record in all_records}) == len(all_records), "each record once"
    for shard in chat.values():
        numbers = [record["dynamodb"]["SequenceNumber"] for record in shard]
        assert all(len(number) >= 21 and number.isdigit() for number in numbers)
        assert [int(number) for number in numbers] == sorted(int(number) for number in numbers)
        assert len(set(numbers)) == len(numbers)
    for record in all_records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "us-east-1"
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert record["dynamodb"]["SizeBytes"] > 0
        assert record["dynamodb"]["ApproximateCreationDateTime"].year >= 2024

    # One channel: its records are all in its shard, in the channel's order.
    ours = [record for record in all_records if record["dynamodb"]["Keys"]["pk"]["S"] == f"CHANNEL#{channel_id}"]
    assert [(record["eventName"], record["dynamodb"]["Keys"]["sk"]["S"]) for record in ours] == [
        ("INSERT", "CHANNEL"),
        ("INSERT", f"MESSAGE#{messages[0]['id']}"),
        ("INSERT", f"MESSAGE#{messages[1]['id']}"),
        ("INSERT", f"MESSAGE#{messages[2]['id']}"),
        ("MODIFY", f"MESSAGE#{messages[1]['id']}"),
        ("MODIFY", f"MESSAGE#{messages[1]['id']}"),
        ("REMOVE", f"MESSAGE#{messages[1]['id']}"),
        ("MODIFY", "CHANNEL"),
        ("MODIFY", "CHANNEL"),
    ]
    created, first_edit, second_edit, removed = ours[2]["dynamodb"], ours[4]["dynamodb"], ours[5]["dynamodb"], \
        ours[6]["dynamodb"]
    assert "OldImage" not in created
    assert s(created["NewImage"], "text") == "second"
    assert created["NewImage"]["metadata"] == {"M": {"n": {"N": "1"}, "tags": {"L": [
        {"S": "a"}, {"M": {"deep": {"L": [{"NULL": True}, {"BOOL": True}, {"N": "1.5"}]}}}]}}}
    assert s(first_edit["OldImage"], "text") == "second"
    assert s(first_edit["NewImage"], "text") == "second, edited"
    assert "editedAt" in first_edit["NewImage"] and "editedAt" not in first_edit["OldImage"]
    assert s(second_edit["OldImage"], "text") == "second, edited"
    assert s(second_edit["NewImage"], "text") == "second, again"
    assert s(removed["OldImage"], "text") == "second, again"
    assert "NewImage" not in removed
    renamed, added = ours[7]["dynamodb"], ours[8]["dynamodb"]
    assert (s(renamed["OldImage"], "name"), s(renamed["NewImage"], "name")) == ("general", "renamed")
    assert [member["S"] for member in added["OldImage"]["members"]["L"]] == ["alice", "bob"]
    assert [member["S"] for member in added["NewImage"]["members"]["L"]] == ["alice", "bob", "carol"]

    # The inbox: each event's records, in order, keyed by eventId.
    triggers = [record for shard in read_all(client, streams["triggers"]).values() for record in shard]
    by_event = {}
    for record in triggers:
        by_event.setdefault(record["dynamodb"]["Keys"]["eventId"]["S"], []).append(record)
    first, second, third = (by_event[event["eventId"]] for event in events)
    assert [record["eventName"] for record in first] == ["INSERT", "MODIFY", "REMOVE"]
    assert [record["eventName"] for record in second] == ["INSERT", "REMOVE"]
    assert [record["eventName"] for record in third] == ["INSERT"]
    assert first[0]["dynamodb"]["NewImage"]["payload"] == {"M": {"amount": {"N": "12.5"}, "lines": {"L": [
        {"M": {"sku": {"S": "x"}}}]}}}
    assert s(first[1]["dynamodb"]["OldImage"], "status") == "pending"
    assert s(first[1]["dynamodb"]["NewImage"], "status") == "acknowledged"
    assert s(first[2]["dynamodb"]["OldImage"], "status") == "acknowledged"
    assert s(second[1]["dynamodb"]["OldImage"], "status") == "pending"
    assert "NewImage" not in first[2]["dynamodb"]


def test_the_four_iterator_types(server):
    alice, client, channel_id, stream, shard_id, records = one_channel(server, "c")
    shards = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"]
    created = records[shard_id][0]["dynamodb"]["SequenceNumber"]
    assert shard_id in [shard["ShardId"] for shard in shards]

    latest = client.get_shard_iterator(StreamArn=stream, ShardId=shard_id, ShardIteratorType="LATEST")
    assert client.get_records(ShardIterator=latest["ShardIterator"])["Records"] == []
    server.request("POST", f"/v1/channels/{channel_id}/messages", {"text": "after latest"}, token=alice)
    after_latest = client.get_records(ShardIterator=latest["ShardIterator"])["Records"]
    assert [s(record["dynamodb"]["NewImage"], "text") for record in after_latest] == ["after latest"]

    at = client.get_shard_iterator(StreamArn=stream, ShardId=shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                   SequenceNumber=created)["ShardIterator"]
    at_records = client.get_records(ShardIterator=at, Limit=1)["Records"]
    assert [record["dynamodb"]["SequenceNumber"] for record in at_records] == [created]
    after = client.get_shard_iterator(StreamArn=stream, ShardId=shard_id, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                      SequenceNumber=created)["ShardIterator"]
    after_records = client.get_records(ShardIterator=after)["Records"]
    assert after_records[0]["dynamodb"]["SequenceNumber"] > created
    assert s(after_records[0]["dynamodb"]["NewImage"], "text") == "after latest"
    horizon = client.get_shard_iterator(StreamArn=stream, ShardId=shard_id,
                                        ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    assert client.get_records(ShardIterator=horizon)["Records"][0]["dynamodb"]["SequenceNumber"] == created


def test_a_reader_following_new_records_gets_each_once(server):
    alice, client, channel_id, stream, shard_id, _ = one_channel(server, "follow")
    iterator = client.get_shard_iterator(StreamArn=stream, ShardId=shard_id,
                                         ShardIteratorType="LATEST")["ShardIterator"]
    seen = []
    done = threading.Event()

    def post():
        for index in range(20):
            server.request("POST", f"/v1/channels/{channel_id}/messages", {"text": f"m{index}"}, token=alice)
        done.set()

    poster = threading.Thread(target=post)
    poster.start()
    deadline = time.monotonic() + 30
    while len(seen) < 20 and time.monotonic() < deadline:
        page = client.get_records(ShardIterator=iterator, Limit=7)
        seen += [s(record["dynamodb"]["NewImage"], "text") for record in page["Records"]]
        iterator = page["NextShardIterator"]
        if not page["Records"]:
            time.sleep(0.05)  # an empty shard: poll again, as a stream reader does
    poster.join(timeout=30)
    assert done.is_set()
    assert seen == [f"m{index}" for index in range(20)]


def test_arns_and_shard_ids_stay_the_same_across_a_restart(server):
    alice = server.token("alice")
    key = server.api_key("streams:read")
    server.request("POST", "/v1/channels", {"name": "c"}, token=alice)
    client = server.streams_client(key)
    before = arns(client)
    shards_before = {table: [shard["ShardId"] for shard in client.describe_stream(StreamArn=arn)[
        "StreamDescription"]["Shards"]] for table, arn in before.items()}
    records_before = read_all(client, before["chat_events"])
    server.restart()
    client = server.streams_client(key)
    assert arns(client) == before
    assert {table: [shard["ShardId"] for shard in client.describe_stream(StreamArn=arn)[
        "StreamDescription"]["Shards"]] for table, arn in before.items()} == shards_before
    assert read_all(client, before["chat_events"]) == records_before


def test_errors_come_back_as_dynamodb_names_them(server):
    key = server.api_key("streams:read")
    client = server.streams_client(key)
    stream = arns(client)["chat_events"]
    shard = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    unknown = stream.replace("table/chat_events/", "table/nothing/")
    assert error_of(lambda: client.describe_stream(StreamArn=unknown))[:2] == ("ResourceNotFoundException", 400)
    assert error_of(lambda: client.get_shard_iterator(
        StreamArn=stream, ShardId="shardId-00000000000000000099", ShardIteratorType="LATEST"))[:2] == (
        "ResourceNotFoundException", 400)
    assert error_of(lambda: client.describe_stream(StreamArn="not-an-arn"))[:2] == ("ValidationException", 400)
    horizon = client.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    for limit in (0, 1001):
        assert error_of(lambda: client.get_records(ShardIterator=horizon["ShardIterator"], Limit=limit))[:2] == (
            "ValidationException", 400)
    assert error_of(lambda: client.list_streams(Limit=101))[:2] == ("ValidationException", 400)
    assert error_of(lambda: client.get_records(ShardIterator="garbage"))[:2] == ("ValidationException", 400)
    assert error_of(lambda: client.get_shard_iterator(
        StreamArn=stream, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER"))[:2] == ("ValidationException", 400)
    assert error_of(lambda: client.get_shard_iterator(
        StreamArn=stream, ShardId=shard, ShardIteratorType="SIDEWAYS"))[:2] == ("ValidationException", 400)


def test_a_wrong_secret_no_signature_a_revoked_key_or_a_missing_scope_is_refused(server):
    key = server.api_key("streams:read")
    code, status, _ = error_of(lambda: server.streams_client(key, secret="wrong" * 8).list_streams())
    assert (code, status) == ("InvalidSignatureException", 400)
    code, status, _ = error_of(lambda: server.streams_client(key, unsigned=True).list_streams())
    assert (code, status) == ("MissingAuthenticationTokenException", 400)
    # Any region is accepted.
    assert server.streams_client(key, region="ap-northeast-1").list_streams()["Streams"]
    events_only = server.api_key("events")
    assert error_of(lambda: server.streams_client(events_only).list_streams())[:2] == ("AccessDeniedException", 400)
    server.chatlog("apikey", "revoke", key["id"])
    code, status, _ = error_of(lambda: server.streams_client(key).list_streams())
    assert (code, status) == ("UnrecognizedClientException", 400)


def test_expired_iterators_and_trimmed_positions(make_server):
    # One triggers shard kept to 1 MB, trimmed every second; iterators live 2 seconds.
    server = make_server({
        "CHATLOG_LOG_ITERATOR_LIFETIME_SECONDS": "2", "CHATLOG_LOG_RETENTION_INTERVAL_SECONDS": "1",
        "CHATLOG_STREAMS_TRIGGERS_SHARDS": "1", "CHATLOG_STREAMS_TRIGGERS_RETENTION_MEGABYTES_PER_SHARD": "1"})
    key = server.api_key("streams:read", "events")
    client = server.streams_client(key)
    stream = arns(client)["triggers"]
    shard = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    first = server.request("POST", "/v1/events", {"source": "s", "eventType": "t", "payload": {"n": 0}},
                           key=key["key"])
    horizon = client.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    first_seq = client.get_records(ShardIterator=horizon["ShardIterator"])["Records"][0]["dynamodb"]["SequenceNumber"]
    time.sleep(2.5)  # the iterator's lifetime has to pass: nothing to await but the clock
    code, status, _ = error_of(lambda: client.get_records(ShardIterator=horizon["ShardIterator"]))
    assert (code, status) == ("ExpiredIteratorException", 400)
    assert first["eventId"]
    for index in range(4):
        server.request("POST", "/v1/events", {"source": "s", "eventType": "t", "payload": {"pad": "x" * 350_000}},
                       key=key["key"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            client.get_shard_iterator(StreamArn=stream, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                      SequenceNumber=first_seq)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "TrimmedDataAccessException"
            assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
            break
        time.sleep(0.2)  # retention runs on its own interval
    else:
        pytest.fail("retention never trimmed the first record")
    start = client.describe_stream(StreamArn=stream)["StreamDescription"]["Shards"][0]["SequenceNumberRange"][
        "StartingSequenceNumber"]
    assert int(start) > int(first_seq)


def raw_sender(server, key):
    """Sends requests boto3 never sends, signed as botocore signs them (or not), as they are:
    send(target, body, signed=True) -> (status, parsed JSON body)."""
    address = urllib.parse.urlparse(server.base)
    credentials = Credentials(key["accessKeyId"], key["secretAccessKey"])

    def send(target, body, signed=True):
        request = AWSRequest(method="POST", url=server.base + "/ddbstreams", data=body, headers={
            "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.0"})
        if signed:
            SigV4Auth(credentials, "dynamodb", "us-east-1").add_auth(request)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        try:
            connection.request("POST", "/ddbstreams", body=body, headers=dict(request.headers))
            response = connection.getresponse()
            return response.status, json.loads(response.read())
        finally:
            connection.close()

    return send


def test_an_unknown_operation_or_a_body_that_is_not_json_is_refused(server):
    send = raw_sender(server, server.api_key("streams:read"))
    status, body = send("DynamoDBStreams_20120810.PutItem", b"{}")
    assert (status, body["__type"]) == (400, "com.amazon.coral.service#UnknownOperationException")
    status, body = send("DynamoDBStreams_20120810.ListStreams", b"not json")
    assert (status, body["__type"]) == (400, "com.amazonaws.dynamodb.v20120810#SerializationException")
    status, body = send("DynamoDBStreams_20120810.ListStreams", b'{"Limit": "ten"}')
    assert (status, body["__type"]) == (400, "com.amazonaws.dynamodb.v20120810#SerializationException")
    status, body = send("DynamoDBStreams_20120810.ListStreams", b"")
    assert status == 200 and body["Streams"]


def test_hostile_requests_get_dynamodb_errors_never_a_server_error(server):
    """Seeded random junk in every member of every operation, signed and not: each answer is
    200 or a DynamoDB-shaped 400, and the server keeps answering."""
    key = server.api_key("streams:read")
    send = raw_sender(server, key)
    alice = server.token("alice")
    server.request("POST", "/v1/channels", {"name": "c"}, token=alice)
    arn = arns(server.streams_client(key))["chat_events"]
    randomness = random.Random(20261205)
    junk = [None, True, -1, 0, 1.5, 10**30, "", "x" * 5000, "\u0000\uffff", [], {}, [1, "a"], {"a": {"b": []}},
            arn, arn + "x", arn.replace("chat_events", "triggers"), "shardId-00000000000000000000",
            "shardId-99999999999999999999", "100000000000000000001", "999999999999999999999999",
            "TRIM_HORIZON", "AT_SEQUENCE_NUMBER", "AQAAAAAAAAAAAyEABmHq1YXJumNoYXRfZXZlbnRzNi5O9w"]
    members = ["StreamArn", "ShardId", "ShardIteratorType", "SequenceNumber", "ShardIterator", "Limit",
               "TableName", "ExclusiveStartStreamArn", "ExclusiveStartShardId"]
    operations = ["ListStreams", "DescribeStream", "GetShardIterator", "GetRecords", "", "ListTables"]
    for index in range(400):
        target = "DynamoDBStreams_20120810." + randomness.choice(operations)
        if index % 10 == 0:
            body = bytes(randomness.randrange(256) for _ in range(randomness.randrange(64)))
        else:
            body = json.dumps({name: randomness.choice(junk) for name in randomness.sample(
                members, randomness.randrange(len(members)))}).encode()
        status, answer = send(target, body, signed=index % 7 != 0)
        assert status in (200, 400), (target, body, status, answer)
        if status == 400:
            assert set(answer) == {"__type", "message"} and "#" in answer["__type"], answer
    assert server.streams_client(key).list_streams()["Streams"]
