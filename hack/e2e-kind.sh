#!/usr/bin/env bash
# For users with Docker: build the image, create a kind cluster, install KServe's and Gateway
# API's CRDs and the chart, apply the quickstart and wait for the InferenceService to appear.
set -euo pipefail
command -v docker >/dev/null || { echo "make e2e-kind needs Docker (and kind, helm, kubectl on PATH)" >&2; exit 2; }
command -v kind >/dev/null || { echo "make e2e-kind needs kind on PATH" >&2; exit 2; }
cd "$(dirname "$0")/.."
image=aim-engine-python:dev
docker build -t "$image" .
kind get clusters | grep -qx aim-engine || kind create cluster --config hack/kind-config.yaml
kind load docker-image "$image" --name aim-engine
.venv/bin/python - <<'PY' | kubectl apply --server-side -f -
import pathlib, sys
from devcluster.binaries import third_party_crds
sys.stdout.write("\n---\n".join(p.read_text() for p in third_party_crds()))
PY
helm upgrade --install aim helm/aim-engine -n aim-system --create-namespace \
  --set image.repository=aim-engine-python --set image.tag=dev --set image.pullPolicy=Never --wait
kubectl create namespace ml-team --dry-run=client -o yaml | kubectl apply -f -
kubectl apply -n ml-team -f examples/quickstart/service.yaml
kubectl -n ml-team patch aimmodel qwen --subresource=status --type=merge -p '{"status":{"status":"Ready"}}'
kubectl -n ml-team patch aimservicetemplate qwen-mi300x-latency --subresource=status --type=merge \
  -p '{"status":{"status":"Ready","profile":{"metadata":{"type":"optimized"}}}}'
for _ in $(seq 60); do
  kubectl -n ml-team get inferenceservices -o name | grep -q . && { echo "e2e-kind: InferenceService created"; exit 0; }
  sleep 2
done
echo "e2e-kind: no InferenceService after 120 s" >&2; kubectl -n ml-team describe aimsvc chat >&2; exit 1
