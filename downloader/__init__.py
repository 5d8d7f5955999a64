"""`aim-download`: fetches model weights from Hugging Face and S3 into a cache volume."""
