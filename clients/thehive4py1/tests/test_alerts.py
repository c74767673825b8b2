"""thehive4py 1.8.2 against Waggle: every alert method it has (create with artifacts and a file,
get with similarity, find, update, mark read/unread, promote to case, merge into case, delete),
and a Zerofox2TH-like feeder run twice as separate processes: the second run creates nothing."""

import io
import json
import os
import subprocess
import sys
import uuid

from thehive4py.models import Alert, AlertArtifact, Case, CaseObservable, CaseTemplate, CaseTask
from thehive4py.query import And, Eq, In

URL = os.environ["WAGGLE_URL"]
HERE = os.path.dirname(os.path.abspath(__file__))


def ok(r, status=(200, 201)):
    assert r.status_code in status, f"{r.status_code}: {r.text}"
    return r.json() if r.text else None


def ref():
    return uuid.uuid4().hex[:12]


def an_alert(source_ref, artifacts, **kw):
    return Alert(title=kw.pop("title", f"Alert {source_ref}"), type="external", source="th4py", sourceRef=source_ref,
                 description=kw.pop("description", "Found by the **test**"), tags=["th4py"], artifacts=artifacts, **kw)


def test_alert_lifecycle(api):
    r1 = ref()
    arts = [
        AlertArtifact(dataType="ip", data="198.51.100.7", ioc=True, tags=["c2"]),
        AlertArtifact(dataType="domain", data="bad.example"),
        AlertArtifact(dataType="file", data=(io.BytesIO(b"MZ dropper bytes"), "dropper.exe"), message="sample"),
    ]
    created = ok(api.create_alert(an_alert(r1, arts)), (201,))
    aid = created["id"]
    assert created["status"] == "New" and created["follow"] is True
    assert len(created["artifacts"]) == 3
    f = next(a for a in created["artifacts"] if a["dataType"] == "file")
    assert f["attachment"]["name"] == "dropper.exe" and f["attachment"]["size"] == len(b"MZ dropper bytes")

    # The same alert again: 400 ConflictError with the existing alert.
    r = api.create_alert(an_alert(r1, [AlertArtifact(dataType="ip", data="198.51.100.7")]))
    assert r.status_code == 400 and r.json()["type"] == "ConflictError", r.text
    assert r.json()["object"]["id"] == aid

    got = ok(api.get_alert(aid))
    assert got["sourceRef"] == r1 and "similarCases" not in got

    # Find: thehive4py's query helpers.
    found = ok(api.find_alerts(query=And(Eq("source", "th4py"), Eq("sourceRef", r1)), range="all", sort=["-date"]))
    assert [a["id"] for a in found] == [aid]
    found = ok(api.find_alerts(query=In("status", ["New", "Updated"]), range="0-100"))
    assert aid in [a["id"] for a in found]

    # Update: the alert as read back (its file artifact carries its attachment), changed.
    alert = Alert(json=got)
    alert.title = "Renamed by th4py"
    alert.severity = 3
    alert.artifacts.append(AlertArtifact(dataType="ip", data="198.51.100.8"))
    updated = ok(api.update_alert(aid, alert))
    assert updated["title"] == "Renamed by th4py" and updated["severity"] == 3
    assert len(updated["artifacts"]) == 4, updated["artifacts"]
    updated = ok(api.update_alert(aid, Alert(json=updated), fields=["tags"]))
    assert updated["status"] == "New"

    # Read / unread; a followed alert changed after triage is Updated.
    assert ok(api.mark_alert_as_read(aid))["status"] == "Ignored"
    alert.description = "More context"
    assert ok(api.update_alert(aid, alert, fields=["description"]))["status"] == "Updated"
    assert ok(api.mark_alert_as_read(aid))["status"] == "Ignored"
    assert ok(api.mark_alert_as_unread(aid))["status"] == "New"

    # Similarity: a case holding one of the values.
    case = ok(api.create_case(Case(title="Known C2", description="d")), (201,))
    ok(api.create_case_observable(case["id"], CaseObservable(dataType="ip", data="198.51.100.7", ioc=True)), (201,))
    sim = ok(api.get_alert(aid, similar_cases=True))
    seen = {a.get("data"): a["seen"] for a in sim["artifacts"]}
    assert seen["198.51.100.7"] == 1 and seen["bad.example"] == 0
    assert [c["id"] for c in sim["similarCases"]] == [case["id"]]
    assert sim["similarCases"][0]["similarIocCount"] == 1

    # Promote to a case with a template.
    tname = f"th4py {ref()}"
    ok(api.create_case_template(CaseTemplate(name=tname, titlePrefix="[TH4PY]", tags=["from-alert"], tasks=[CaseTask(title="Contain")])), (201,))
    promoted = ok(api.promote_alert_to_case(aid, case_template=tname), (201,))
    assert promoted["title"] == "[TH4PY] Renamed by th4py"
    obs = ok(api.get_case_observables(promoted["id"]))
    assert len(obs) == 4
    assert any(o["dataType"] == "file" and o["attachment"]["name"] == "dropper.exe" for o in obs)
    assert len(ok(api.get_case_tasks(promoted["id"]))) == 1
    after = ok(api.get_alert(aid))
    assert after["status"] == "Imported" and after["case"] == promoted["id"]
    assert api.promote_alert_to_case(aid).status_code == 400

    # Merge another alert into that case: new observables only, description appended.
    r2 = ref()
    other = ok(api.create_alert(an_alert(r2, [AlertArtifact(dataType="ip", data="198.51.100.7"), AlertArtifact(dataType="mail", data="ceo@bad.example")], description="Second wave")), (201,))
    merged = ok(api.merge_alert_into_case(other["id"], promoted["id"]))
    assert merged["id"] == promoted["id"]
    assert "Second wave" in merged["description"]
    assert len(ok(api.get_case_observables(promoted["id"]))) == 5
    assert ok(api.get_alert(other["id"]))["status"] == "Imported"

    # Delete.
    gone = ok(api.create_alert(an_alert(ref(), [])), (201,))
    assert api.delete_alert(gone["id"]).status_code == 204
    assert api.get_alert(gone["id"]).status_code == 404


def test_feeder_twice_creates_no_duplicates(api, api_key, tmp_path):
    run = ref()
    incidents = [
        {"id": f"{run}-{i}", "title": f"Impersonating account {i}", "severity": 2 + i % 2, "category": "impersonation",
         "description": f"Account {i} impersonates the brand",
         "observables": [{"type": "url", "value": f"https://social.example/fake{i}"}, {"type": "domain", "value": f"fake{i}.example"},
                         {"type": "mail", "value": "brand@phish.example", "note": "shared sender"}],
         "screenshot": {"name": f"shot{i}.png", "content": f"png bytes {i}"} if i % 3 == 0 else None}
        for i in range(12)
    ]
    path = tmp_path / "incidents.json"
    path.write_text(json.dumps(incidents))
    feeder = os.path.join(HERE, "..", "feeders", "zerofox_like.py")

    def feed():
        out = subprocess.run([sys.executable, feeder, URL, api_key, str(path)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout.strip().splitlines()[-1])

    assert feed() == {"created": 12, "known": 0, "failed": 0}
    assert feed() == {"created": 0, "known": 12, "failed": 0}
    found = ok(api.find_alerts(query=And(Eq("source", "ZeroFOX"), Eq("type", "ZeroFOX Alert")), range="all"))
    mine = [a for a in found if a["sourceRef"].startswith(run)]
    assert len(mine) == 12
    assert len({a["sourceRef"] for a in mine}) == 12
    with_file = [a for a in mine if any(x["dataType"] == "file" for x in a["artifacts"])]
    assert len(with_file) == 4
    assert all(a["occurrences"] == 1 for a in mine)
