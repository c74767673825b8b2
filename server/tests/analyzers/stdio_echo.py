#!/usr/bin/env python3
# A Cortex 2 style analyzer: input JSON on stdin, report on stdout.
import json
import os
import sys

doc = json.load(sys.stdin)
full = {"echo": doc, "argv": sys.argv[1:]}
f = doc.get("file")
if f and os.path.isabs(f) and os.path.isfile(f):
    with open(f) as fh:
        full["file_content"] = fh.read()
print(json.dumps({"success": True, "summary": {"taxonomies": []}, "full": full,
                  "artifacts": [], "operations": []}))
