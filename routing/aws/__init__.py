"""EventBridge's own wire protocol (AWS JSON 1.1, SigV4) in front of the bus's services, so that
boto3, the AWS CLI and the other AWS SDKs work unchanged. See docs/aws-compat.md."""
