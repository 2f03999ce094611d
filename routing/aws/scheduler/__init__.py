"""EventBridge Scheduler's REST-JSON API (boto3's `scheduler` client) on the bus's schedules."""
