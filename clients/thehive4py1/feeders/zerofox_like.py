"""A feeder built the way Zerofox2TH and DigitalShadows2TH are: it reads incidents from its
source (here a JSON file standing for the vendor's API), turns each into a thehive4py 1.8.2
`Alert` with `AlertArtifact`s (values and a file), and calls `create_alert`. Run again over
the same incidents, TheHive answers 400 ConflictError for each one it has: the feeder counts
them as already known, as those feeders do.

Usage: zerofox_like.py URL API_KEY INCIDENTS.json   prints {"created": n, "known": n, "failed": n}
"""

import io
import json
import sys

from thehive4py.api import TheHiveApi
from thehive4py.models import Alert, AlertArtifact


def to_alert(incident):
    artifacts = [AlertArtifact(dataType=o["type"], data=o["value"], message=o.get("note"), tags=["zerofox"]) for o in incident["observables"]]
    if incident.get("screenshot"):
        shot = incident["screenshot"]
        artifacts.append(AlertArtifact(dataType="file", data=(io.BytesIO(shot["content"].encode()), shot["name"]), message="screenshot"))
    return Alert(
        title=incident["title"],
        tlp=2,
        severity=incident["severity"],
        tags=["ZeroFOX", incident["category"]],
        description=incident["description"],
        type="ZeroFOX Alert",
        source="ZeroFOX",
        sourceRef=str(incident["id"]),
        artifacts=artifacts,
        caseTemplate="ZeroFOX",
    )


def main(url, key, path):
    api = TheHiveApi(url, key)
    counts = {"created": 0, "known": 0, "failed": 0}
    with open(path) as f:
        incidents = json.load(f)
    for incident in incidents:
        r = api.create_alert(to_alert(incident))
        if r.status_code == 201:
            counts["created"] += 1
        elif r.status_code == 400 and r.json().get("type") == "ConflictError":
            # What the feeders do with it: log it and go on (the existing alert is in `object`).
            assert r.json()["object"]["sourceRef"] == str(incident["id"]), r.text
            counts["known"] += 1
        else:
            print(f"alert {incident['id']}: {r.status_code} {r.text}", file=sys.stderr)
            counts["failed"] += 1
    print(json.dumps(counts))


if __name__ == "__main__":
    main(*sys.argv[1:4])
