"""The scenario tests/unit/test_soak.py runs twice, in a process of its own each: moto as it
is, and moto with the soak's speed-ups (``patched``). Prints every answer as JSON."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

os.environ.update(AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
import boto3
from botocore.exceptions import ClientError
from moto import mock_aws

if sys.argv[1] == "patched":
    from soak.aws import speed_up_moto

    speed_up_moto()
out: list[Any] = []


def keep(r: Any) -> None:
    r = dict(r)
    r.pop("ResponseMetadata", None)
    out.append(r)


def fail(f: Any, **kw: Any) -> None:
    try:
        f(**kw)
        out.append("no error")
    except ClientError as e:
        out.append([e.response["Error"]["Code"], e.response.get("CancellationReasons")])


with mock_aws():
    d = boto3.client("dynamodb")
    d.create_table(
        TableName="t",
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": t}
            for a, t in (("pk", "S"), ("sk", "S"), ("g", "S"), ("due", "N"))
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byDue",
                "Projection": {"ProjectionType": "ALL"},
                "KeySchema": [
                    {"AttributeName": "g", "KeyType": "HASH"},
                    {"AttributeName": "due", "KeyType": "RANGE"},
                ],
            }
        ],
    )
    for p in range(3):
        for i in range(25):
            item = {
                "pk": {"S": f"p{p}"},
                "sk": {"S": f"{i:03d}"},
                "n": {"N": str(i * 1.5)},
                "m": {
                    "M": {
                        "a": {"L": [{"S": "x"}, {"N": "1"}, {"BOOL": True}, {"NULL": True}]},
                        "ss": {"SS": ["b", "a"]},
                    }
                },
            }
            if i % 3 == 0:
                item.update(g={"S": "due"}, due={"N": str(100 - i)})
            d.put_item(TableName="t", Item=item)
    fail(
        d.put_item,
        TableName="t",
        Item={"pk": {"S": "p0"}, "sk": {"S": "001"}},
        ConditionExpression="attribute_not_exists(sk)",
    )
    keep(
        d.get_item(TableName="t", Key={"pk": {"S": "p1"}, "sk": {"S": "004"}}, ConsistentRead=True)
    )
    keep(
        d.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p2"}},
        )
    )
    keep(
        d.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "p2"}},
            ScanIndexForward=False,
            Limit=7,
        )
    )
    first = d.query(
        TableName="t",
        KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
        ExpressionAttributeValues={":p": {"S": "p0"}, ":s": {"S": "01"}},
        Limit=4,
    )
    keep(first)
    keep(
        d.query(
            TableName="t",
            KeyConditionExpression="pk = :p AND begins_with(sk, :s)",
            ExpressionAttributeValues={":p": {"S": "p0"}, ":s": {"S": "01"}},
            ExclusiveStartKey=first["LastEvaluatedKey"],
        )
    )
    keep(
        d.query(
            TableName="t",
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            FilterExpression="n > :n",
            ExpressionAttributeValues={
                ":p": {"S": "p1"},
                ":a": {"S": "005"},
                ":b": {"S": "020"},
                ":n": {"N": "10"},
            },
        )
    )
    keep(
        d.query(
            TableName="t",
            KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": {"S": "nobody"}},
        )
    )
    keep(
        d.query(
            TableName="t",
            IndexName="byDue",
            KeyConditionExpression="g = :g AND due <= :d",
            ExpressionAttributeValues={":g": {"S": "due"}, ":d": {"N": "90"}},
        )
    )
    keep(
        d.update_item(
            TableName="t",
            Key={"pk": {"S": "p0"}, "sk": {"S": "002"}},
            UpdateExpression="SET #s = :s, m.a[0] = :x ADD hits :one REMOVE n",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": {"S": "done"}, ":x": {"S": "y"}, ":one": {"N": "1"}},
            ReturnValues="ALL_NEW",
        )
    )
    d.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": "t",
                    "Item": {"pk": {"S": "tx"}, "sk": {"S": "1"}},
                    "ConditionExpression": "attribute_not_exists(sk)",
                }
            },
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "p0"}, "sk": {"S": "003"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "7"}},
                }
            },
        ]
    )
    fail(
        d.transact_write_items,
        TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "tx"}, "sk": {"S": "2"}}}},
            {"Delete": {"TableName": "t", "Key": {"pk": {"S": "p0"}, "sk": {"S": "005"}}}},
            {
                "Update": {
                    "TableName": "t",
                    "Key": {"pk": {"S": "p0"}, "sk": {"S": "006"}},
                    "UpdateExpression": "SET v = :v",
                    "ExpressionAttributeValues": {":v": {"N": "8"}},
                }
            },
            {
                "Put": {
                    "TableName": "t",
                    "Item": {"pk": {"S": "tx"}, "sk": {"S": "1"}},
                    "ConditionExpression": "attribute_not_exists(sk)",
                }
            },
        ],
    )
    for key in (("tx", "1"), ("tx", "2"), ("p0", "003"), ("p0", "005"), ("p0", "006")):
        keep(d.get_item(TableName="t", Key={"pk": {"S": key[0]}, "sk": {"S": key[1]}}))
    keep(
        d.batch_get_item(
            RequestItems={
                "t": {"Keys": [{"pk": {"S": "p1"}, "sk": {"S": f"{i:03d}"}} for i in range(5)]}
            }
        )
    )
    s = boto3.client("sqs")
    url = s.create_queue(QueueName="q", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    for i in range(15):
        s.send_message(QueueUrl=url, MessageBody=f"m{i}", DelaySeconds=0 if i % 5 else 60)
    got = s.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    out.append(sorted(m["Body"] for m in got))
    out.append(sorted(m["Attributes"]["ApproximateReceiveCount"] for m in got))
    s.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]} for k, m in enumerate(got[:4])
        ],
    )
    attrs = s.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    out.append(
        {
            k: attrs[k]
            for k in (
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
                "ApproximateNumberOfMessagesDelayed",
            )
        }
    )
print(json.dumps(out, sort_keys=True, default=str))
