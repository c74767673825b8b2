"""MITRE ATT&CK: the pattern catalogue and procedures of cases and alerts, through thehive4py
2.1.0 (procedures) and TheHive 4's import route (patterns; thehive4py has no call for it).

MITRE's enterprise-attack bundle (~45 MB) cannot be downloaded here (no internet), so the test
imports a bundle in the same STIX 2.1 shape with real techniques (ids, names, kill-chain phases
as MITRE publishes them), a revoked one and an object that is not a technique."""

import json

import pytest
import requests
from thehive4py.errors import TheHiveError
from thehive4py.query.filters import Eq

from conftest import URL

BUNDLE = {"type": "bundle", "id": "bundle--waggle-test", "objects": [
    {"type": "x-mitre-tactic", "id": "x-mitre-tactic--4ca45d45", "name": "Execution", "x_mitre_shortname": "execution"},
    {"type": "attack-pattern", "id": "attack-pattern--7385dfaf", "name": "Command and Scripting Interpreter",
     "description": "Adversaries may abuse command and script interpreters to execute commands.",
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1059", "url": "https://attack.mitre.org/techniques/T1059"}],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
     "x_mitre_platforms": ["Linux", "macOS", "Windows"], "x_mitre_version": "2.4"},
    {"type": "attack-pattern", "id": "attack-pattern--970a3432", "name": "PowerShell",
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1059.001", "url": "https://attack.mitre.org/techniques/T1059/001"}],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}], "x_mitre_is_subtechnique": True},
    {"type": "attack-pattern", "id": "attack-pattern--a62a8db3", "name": "Phishing",
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1566", "url": "https://attack.mitre.org/techniques/T1566"}],
     "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "initial-access"}]},
    {"type": "attack-pattern", "id": "attack-pattern--0000dead", "name": "Revoked technique", "revoked": True,
     "external_references": [{"source_name": "mitre-attack", "external_id": "T1000"}]},
]}


@pytest.fixture(scope="module")
def patterns(api_key):
    headers = {"Authorization": f"Bearer {api_key}", "X-Organisation": "admin"}
    r = requests.post(f"{URL}/api/v1/pattern/import/attack", headers=headers,
                      files={"file": ("enterprise-attack.json", json.dumps(BUNDLE), "application/json")})
    assert r.status_code == 201, r.text
    return r.json()


def test_pattern_import(patterns, hive, api_key):
    assert sorted(p["mitreId"] for p in patterns if p["status"] == "Success") == ["T1059", "T1059.001", "T1566"]
    got = hive.session.make_request("GET", path="/api/v1/pattern/T1059.001")
    assert got["name"] == "PowerShell" and got["tactics"] == ["execution"]
    assert [p["patternId"] for p in hive.query.run([{"_name": "listPattern"}, {"_name": "filter", "_like": {"_field": "name", "_value": "*Interpreter*"}}])] == ["T1059"]
    # Only platform administrators import: soc's administrator is refused.
    r = requests.post(f"{URL}/api/v1/pattern/import/attack", headers={"Authorization": f"Bearer {api_key}"},
                      files={"file": ("x.json", json.dumps(BUNDLE), "application/json")})
    assert r.status_code == 403, r.text
    r = requests.post(f"{URL}/api/v1/pattern/import/attack", headers={"Authorization": f"Bearer {api_key}", "X-Organisation": "admin"},
                      files={"file": ("x.json", "{not json", "application/json")})
    assert r.status_code == 400, r.text


def test_procedures(patterns, hive, unique):
    case = hive.case.create({"title": f"procedures {unique}", "description": "d"})
    p = hive.procedure.create_in_case(case["_id"], {"patternId": "T1566", "occurDate": 1700000000000, "description": "Invoice lure"})
    assert p["patternId"] == "T1566" and p["patternName"] == "Phishing" and p["tactic"] == "initial-access" and p["tacticLabel"] == "Initial Access"
    more = hive.procedure.bulk_create_in_case(case["_id"], [
        {"patternId": "T1059.001", "occurDate": 1700000100000, "tactic": "execution"},
        {"patternId": "T1059", "occurDate": 1700000200000},
    ])
    assert [x["patternId"] for x in more] == ["T1059.001", "T1059"]
    assert [x["patternId"] for x in hive.case.find_procedures(case["_id"])] == ["T1566", "T1059.001", "T1059"]
    hive.procedure.update(p["_id"], {"description": "Invoice lure, 40 recipients"})
    assert hive.procedure.get(p["_id"])["description"] == "Invoice lure, 40 recipients"
    assert {x["_id"] for x in hive.procedure.find(filters=Eq("patternId", "T1059"))} >= {more[1]["_id"]}
    linked = hive.session.make_request("GET", path=f"/api/v1/pattern/case/{case['_id']}")
    assert sorted(x["patternId"] for x in linked) == ["T1059", "T1059.001", "T1566"]

    # An unknown technique, a tactic the technique does not have.
    with pytest.raises(TheHiveError) as e:
        hive.procedure.create_in_case(case["_id"], {"patternId": "T4242", "occurDate": 1})
    assert e.value.response.status_code == 404
    with pytest.raises(TheHiveError) as e:
        hive.procedure.create_in_case(case["_id"], {"patternId": "T1566", "occurDate": 1, "tactic": "exfiltration"})
    assert e.value.response.status_code == 400

    hive.procedure.delete(p["_id"])
    hive.procedure.bulk_delete([m["_id"] for m in more])
    assert hive.case.find_procedures(case["_id"]) == []

    alert = hive.alert.create({"type": "edr", "source": f"p-{unique}", "sourceRef": "1", "title": "PowerShell download cradle", "description": "d"})
    hive.alert.create_procedure(alert["_id"], {"patternId": "T1059.001", "occurDate": 1700000300000})
    assert [x["patternName"] for x in hive.alert.find_procedures(alert["_id"])] == ["PowerShell"]
