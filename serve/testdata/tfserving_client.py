"""A TensorFlow Serving REST client written from its documentation only
(tensorflow_serving/g3doc/api_rest.md): model status, model metadata,
predict in row and columnar format, and the error body of a bad request.

Usage: python3 tfserving_client.py http://host:port MODEL_NAME
Prints one JSON object: the answers, keyed by request.
"""
import json
import sys

import requests


def main():
    host, model = sys.argv[1], sys.argv[2]
    base = "%s/v1/models/%s" % (host, model)
    out = {}

    # Model status API: GET /v1/models/${MODEL_NAME}
    r = requests.get(base)
    r.raise_for_status()
    out["status"] = r.json()

    # Model Metadata API: GET /v1/models/${MODEL_NAME}/metadata
    r = requests.get(base + "/metadata")
    r.raise_for_status()
    sigs = r.json()["metadata"]["signature_def"]["signature_def"]
    out["serving_default_inputs"] = sorted(sigs["serving_default"]["inputs"])

    # Predict API, row format: {"instances": ...} -> {"predictions": ...}
    r = requests.post(base + ":predict", json={"instances": [1.0, 2.0, 5.0]})
    r.raise_for_status()
    out["row"] = r.json()

    # Columnar format, named signature: {"inputs": ...} -> {"outputs": ...}
    r = requests.post(base + ":predict",
                      data=json.dumps({"signature_name": "serving_default", "inputs": [3.0, 4.0]}))
    r.raise_for_status()
    out["columnar"] = r.json()

    # JSON conformance: NaN and Infinity are accepted and returned.
    r = requests.post(base + ":predict", data='{"instances": [NaN, Infinity]}')
    r.raise_for_status()
    out["nonfinite"] = [repr(v) for v in json.loads(r.text)["predictions"]]

    # Errors: a JSON object with "error" and an HTTP error status.
    r = requests.post(host + "/v1/models/half:predict", json={"instances": [1.0, 5.0]})
    out["error"] = {"status": r.status_code, "body": r.json()}

    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
