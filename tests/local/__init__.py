"""Tests against real servers on loopback (the Hugging Face look-alike, moto S3, the webhook
server with its certificates) that need no control plane: `make test-unit` runs them."""
