#!/usr/bin/env python3
"""The seed's export task, as Python code that talks to Hourglass through the AWS APIs.

The seed (https://github.com/094459/blog-mwaa-timestream, timestream-airflow-demo.py) ran one
PythonOperator task every hour:

    wr.s3.to_csv(df=wr.timestream.query(query), path='s3://demo-airflow-ts-output/{s3folder}/my_file.csv')

This script does the same with boto3 and pandas only (Debian's python3-boto3 and python3-pandas;
awswrangler is not packaged there): the Timestream Query API through botocore's paginator, a
DataFrame built the way awswrangler's timestream.query builds it, pandas' to_csv, and an S3
put_object to the same key. Hourglass serves both APIs on the port of `hourglass up`.

Usage (the DAG examples/dags/timestream-python-task.ts runs it for each hour):

    /usr/bin/python3 seed_task.py --endpoint-url http://127.0.0.1:8080 \\
        --start 2021-09-22T13:00:00+00:00 --end 2021-09-22T14:00:00+00:00

    --start / --end   the data interval, ISO 8601 with an offset; default: the environment's
                      HOURGLASS_DATA_INTERVAL_START / _END (set for every command task)
    --endpoint-url    the server's URL; default: HOURGLASS_ENDPOINT, then AWS_ENDPOINT_URL
                      (boto3 1.26 does not read AWS_ENDPOINT_URL itself, so it is passed on)
    --bucket          default demo-airflow-ts-output, the seed's bucket
    --page-rows       rows per Query page (MaxRows); default: the server's page size

Keys and region come from boto3's usual places (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_DEFAULT_REGION, ~/.aws). Hourglass checks signatures: run as a task, the script gets a key of
the server's in its environment; run by hand, use a key from `hourglass keys create`.

Exit status: 0 when the file was written or the hour was empty (the seed uploaded nothing then, and
so does this), 2 for bad arguments, 1 when a call failed (the message says which and why).
"""

import argparse
import os
import sys
from datetime import date, datetime, timezone

import boto3
import pandas as pd
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

SEED_BUCKET = "demo-airflow-ts-output"

# The seed's query, verbatim but for the two changes the native export (examples/dags/
# timestream-airflow-demo.ts) made, so that both write the same rows in the same order:
# - a half-open interval, time >= start AND time < end: the seed's BETWEEN includes both ends, so a
#   point exactly on the hour went into two hourly files;
# - ORDER BY sorts inside a bin too (region, instance, zone): the seed's ORDER BY binned_timestamp
#   left that order to chance, so two runs over the same data could write different bytes.
QUERY = (
    "SELECT instance_name, BIN(time, 15s) AS binned_timestamp, "
    "ROUND(AVG(measure_value::double), 2) AS avg_cpu_utilization, "
    "ROUND(APPROX_PERCENTILE(measure_value::double, 0.9), 2) AS p90_cpu_utilization, "
    "ROUND(APPROX_PERCENTILE(measure_value::double, 0.95), 2) AS p95_cpu_utilization, "
    "ROUND(APPROX_PERCENTILE(measure_value::double, 0.99), 2) AS p99_cpu_utilization "
    'FROM "airflow-db"."airflow-table" '
    "WHERE measure_name = 'cpu_nice' AND time >= '{start}' AND time < '{end}' "
    "GROUP BY region, instance_name, availability_zone, BIN(time, 15s) "
    "ORDER BY binned_timestamp ASC, region, instance_name, availability_zone"
)


class TaskError(Exception):
    """A failure with a message for the task log; exit status 1."""


class UsageError(Exception):
    """A bad argument or missing setting; exit status 2."""


def parse_instant(text, name):
    """An interval end as an aware UTC datetime. Airflow's forms (with a T or a space) are accepted;
    a time without an offset is refused, since guessing its zone would export the wrong hour."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{name} {text!r} is not an ISO 8601 time, e.g. 2021-09-22T13:00:00+00:00") from None
    if value.tzinfo is None:
        raise UsageError(f"{name} {text!r} has no offset: add +00:00 (or Z) for UTC")
    return value.astimezone(timezone.utc)


def to_microseconds(value, layout):
    """Timestream's TIMESTAMP or TIME text (2021-09-22 13:03:15.000000000) parsed as awswrangler
    parses it: the last three digits cut, the rest read with %f, so values hold microseconds."""
    whole, _, fraction = value.partition(".")
    return datetime.strptime(f"{whole}.{(fraction + '000000')[:6]}", f"{layout}.%f")


# awswrangler's _cast_value: the Python value each Timestream scalar type becomes.
CASTS = {
    "VARCHAR": str,
    "BIGINT": int,
    "INTEGER": int,
    "DOUBLE": float,
    "BOOLEAN": lambda v: v.lower() == "true",
    "TIMESTAMP": lambda v: to_microseconds(v, "%Y-%m-%d %H:%M:%S"),
    "DATE": date.fromisoformat,
    "TIME": lambda v: to_microseconds(v, "%H:%M:%S").time(),
}


def column_schema(column_info):
    """(name, scalar type) for each column of a Query response, refusing types awswrangler could
    not put in a DataFrame column either (arrays, rows, time series, intervals)."""
    schema = []
    for column in column_info:
        name = column.get("Name", "")
        scalar = column.get("Type", {}).get("ScalarType")
        if scalar not in CASTS:
            kind = scalar or next(iter(column.get("Type", {})), "an unknown type")
            raise TaskError(
                f"column {name!r} is of type {kind}, which this script does not turn into a DataFrame "
                f"column (it reads {', '.join(CASTS)}): cast it to VARCHAR in the query"
            )
        schema.append((name, scalar))
    return schema


def query_frame(client, sql, page_rows=None):
    """Every page of the query (botocore's paginator follows NextToken) as one DataFrame, built as
    awswrangler's timestream.query builds it: column names from ColumnInfo, each value cast by its
    column's ScalarType, NULL as None, VARCHAR columns as pandas' string dtype. Returns the frame
    and the number of pages."""
    schema = None
    rows = []
    pages = 0
    paging = {} if page_rows is None else {"PaginationConfig": {"PageSize": page_rows}}
    for page in client.get_paginator("query").paginate(QueryString=sql, **paging):
        pages += 1
        if schema is None:
            schema = column_schema(page["ColumnInfo"])
        for row in page["Rows"]:
            values = []
            for (name, scalar), datum in zip(schema, row["Data"]):
                if datum.get("NullValue", False) or "ScalarValue" not in datum:
                    values.append(None)
                else:
                    values.append(CASTS[scalar](datum["ScalarValue"]))
            rows.append(values)
    schema = schema or []
    frame = pd.DataFrame(data=rows, columns=[name for name, _ in schema])
    for name, scalar in schema:
        if scalar == "VARCHAR":
            frame[name] = frame[name].astype("string")
    return frame, pages


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Run the seed's hourly Timestream query for one interval and write it as CSV to "
        "s3://<bucket>/YYYY-MM-DD-HH/my_file.csv (the seed's task, with boto3 and pandas).",
    )
    parser.add_argument("--start", default=os.environ.get("HOURGLASS_DATA_INTERVAL_START"),
                        help="interval start, e.g. 2021-09-22T13:00:00+00:00 (default: $HOURGLASS_DATA_INTERVAL_START)")
    parser.add_argument("--end", default=os.environ.get("HOURGLASS_DATA_INTERVAL_END"),
                        help="interval end, excluded (default: $HOURGLASS_DATA_INTERVAL_END)")
    parser.add_argument("--endpoint-url",
                        default=os.environ.get("HOURGLASS_ENDPOINT") or os.environ.get("AWS_ENDPOINT_URL"),
                        help="the Hourglass server, e.g. http://127.0.0.1:8080 (default: $HOURGLASS_ENDPOINT, then $AWS_ENDPOINT_URL)")
    parser.add_argument("--bucket", default=SEED_BUCKET, help=f"the bucket (default: {SEED_BUCKET})")
    parser.add_argument("--page-rows", type=int, default=None,
                        help="rows per Query page, 1 to 1000 (MaxRows; default: the server's, as awswrangler did)")
    args = parser.parse_args(argv)
    if not args.start or not args.end:
        raise UsageError("the interval is missing: pass --start and --end, or set HOURGLASS_DATA_INTERVAL_START "
                         "and HOURGLASS_DATA_INTERVAL_END (a command task of Hourglass has both)")
    if not args.endpoint_url:
        raise UsageError("no endpoint: pass --endpoint-url http://127.0.0.1:8080 or set HOURGLASS_ENDPOINT "
                         "(this script is meant for an Hourglass server, and will not fall back to AWS)")
    start, end = parse_instant(args.start, "--start"), parse_instant(args.end, "--end")
    if args.page_rows is not None and not 1 <= args.page_rows <= 1000:
        raise UsageError(f"--page-rows {args.page_rows} is out of range: Timestream's MaxRows is 1 to 1000")
    if not start < end:
        raise UsageError(f"the interval is empty: --start {args.start} is not before --end {args.end}")
    return args, start, end


def run(argv):
    args, start, end = parse_args(argv)
    # The seed's own formatting: str(execution_date) with the T replaced, and the first 13
    # characters of the start with the T made a dash as the folder.
    sql = QUERY.format(start=str(start), end=str(end))
    key = f"{start.strftime('%Y-%m-%d-%H')}/my_file.csv"
    print(f"Data will be uploaded to {args.bucket}/{key}", flush=True)
    print(f"Query to be run: {sql}", flush=True)

    # boto3 1.26 reads keys and region from the environment but not the endpoint, hence endpoint_url.
    # One try per call: a server that is down should fail the task now, with the reason.
    common = dict(endpoint_url=args.endpoint_url,
                  region_name=boto3.session.Session().region_name or "us-east-1",
                  config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))
    try:
        frame, pages = query_frame(boto3.client("timestream-query", **common), sql, args.page_rows)
    except ClientError as error:
        raise TaskError(f"the query failed: {describe(error)}") from None
    if frame.empty:
        # The seed's wr.s3.to_csv refused an empty DataFrame; its task caught that and moved on.
        print("Query returned nothing - no data uploaded", flush=True)
        return 0

    # pandas' own CSV: a leading index column, floats as repr() prints them, "\n" line ends.
    body = frame.to_csv().encode("utf-8")
    try:
        boto3.client("s3", **common).put_object(Bucket=args.bucket, Key=key, Body=body)
    except ClientError as error:
        raise TaskError(f"writing s3://{args.bucket}/{key} failed: {describe(error)}") from None
    print(f"Timestream query processed successfully and copied to {args.bucket}/{key}: "
          f"{len(frame)} rows ({pages} query pages), {len(body)} bytes", flush=True)
    return 0


def describe(error):
    detail = error.response.get("Error", {})
    return f"{detail.get('Code', 'error')}: {detail.get('Message', str(error))}"


def main():
    try:
        return run(sys.argv[1:])
    except UsageError as error:
        print(f"seed_task.py: {error}", file=sys.stderr)
        return 2
    except TaskError as error:
        print(f"seed_task.py: {error}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        print("seed_task.py: no AWS keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
              "to a key from `hourglass keys create`", file=sys.stderr)
        return 1
    except BotoCoreError as error:
        # EndpointConnectionError and the like: the server is not there.
        print(f"seed_task.py: {error} (is `hourglass up` running at that address?)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
