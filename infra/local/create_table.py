"""Creates the table from infra/dynamodb/table.json (the one definition) if it is missing."""
import json
import os
import pathlib
import sys

import boto3

definition = json.loads((pathlib.Path(__file__).parents[1] / "dynamodb" / "table.json").read_text())
table = os.environ["TABLE_NAME"]
# boto3 honours AWS_ENDPOINT_URL_DYNAMODB but reads the region only from AWS_DEFAULT_REGION.
client = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))
if table in client.list_tables()["TableNames"]:
    print(f"table {table} already exists")
    sys.exit(0)
client.create_table(TableName=table, **definition)
client.get_waiter("table_exists").wait(TableName=table)
print(f"created table {table}")
