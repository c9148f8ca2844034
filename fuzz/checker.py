"""The fuzzer's ground truth: onnx.checker with full_check (strict shape inference) on each
model file named on stdin (one path per line). Prints one JSON object per file:
{"file": ..., "valid": true|false, "message": ...}. Run by fuzz/truth.ts."""
import json
import sys

import onnx
import onnx.checker

for line in sys.stdin:
    path = line.strip()
    if not path:
        continue
    try:
        model = onnx.load(path, load_external_data=False)
        onnx.checker.check_model(model, full_check=True)
        out = {"file": path, "valid": True, "message": ""}
    except Exception as e:  # the checker's verdict, whatever it raises
        out = {"file": path, "valid": False, "message": f"{type(e).__name__}: {e}"[:600]}
    print(json.dumps(out), flush=True)
