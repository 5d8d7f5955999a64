"""Real servers for the downloader's tests, each a separate process on 127.0.0.1: a Hugging Face
Hub look-alike (`hf`) and moto's S3 server (`s3`), both with fault injection (`faults`)."""
