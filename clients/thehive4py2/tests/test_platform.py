"""Users, organisations, profiles, observable types, case templates, the query API, errors
and authentication through thehive4py 2.1.0; and the cross-dialect guarantees (v1 <-> v0)."""

import pytest
from thehive4py import TheHiveApi
from thehive4py.errors import TheHiveError
from thehive4py.query.filters import Eq, Like

from conftest import URL


def test_current_user_and_users(hive, basic_hive, unique):
    me = hive.user.get_current()
    assert me["login"] == "admin@waggle.local" and me["organisation"] == "soc" and "manageCase" in me["permissions"]
    assert "soc" in [o["organisation"] for o in me["organisations"]]
    assert basic_hive.user.get_current()["login"] == "admin@waggle.local"
    user = hive.user.create({"login": f"analyst-{unique}@waggle.local", "name": "An Analyst", "profile": "analyst", "organisation": "soc"})
    assert user["login"] == f"analyst-{unique}@waggle.local" and user["profile"] == "analyst"
    assert hive.user.get(user["_id"])["name"] == "An Analyst"
    assert hive.user.count(filters=Eq("login", f"analyst-{unique}@waggle.local")) == 1
    assert [u["login"] for u in hive.user.find(filters=Like("login", f"analyst-{unique}*"))] == [f"analyst-{unique}@waggle.local"]


def test_bad_key_is_401():
    with pytest.raises(TheHiveError) as e:
        TheHiveApi(URL, apikey="not-a-key", max_retries=None).user.get_current()
    assert e.value.response.status_code == 401


def test_organisations_and_profiles(hive, admin_hive, unique):
    # Organisations are managed from the platform's admin organisation.
    with pytest.raises(TheHiveError) as e:
        hive.organisation.create({"name": f"refused-{unique}", "description": "from soc"})
    assert e.value.response.status_code == 403
    org = admin_hive.organisation.create({"name": f"customer-{unique}", "description": "An MSSP customer"})
    assert org["name"] == f"customer-{unique}"
    assert admin_hive.organisation.get(f"customer-{unique}")["_id"] == org["_id"]
    assert f"customer-{unique}" in [o["name"] for o in admin_hive.organisation.find()]
    assert admin_hive.organisation.count(filters=Eq("name", f"customer-{unique}")) == 1
    profiles = {p["name"]: p for p in hive.profile.find()}
    assert {"admin", "analyst", "read-only"} <= set(profiles)
    assert "manageCase" in profiles["analyst"]["permissions"]
    assert hive.profile.count() == len(profiles)


def test_observable_types(hive, unique):
    t = hive.observable_type.create({"name": f"wallet-{unique}", "isAttachment": False})
    assert t["name"] == f"wallet-{unique}" and t["isAttachment"] is False
    assert hive.observable_type.get(f"wallet-{unique}")["_id"] == t["_id"]
    assert [x["name"] for x in hive.observable_type.find(filters=Eq("name", f"wallet-{unique}"))] == [f"wallet-{unique}"]
    hive.observable_type.delete(t["_id"])
    assert hive.observable_type.find(filters=Eq("name", f"wallet-{unique}")) == []


def test_case_templates(hive, unique):
    name = f"phishing-{unique}"
    t = hive.case_template.create({"name": name, "titlePrefix": "[PHISH]", "severity": 3, "tags": ["phishing"],
                                   "tasks": [{"title": "Collect the mail"}, {"title": "Block the sender", "group": "containment"}]})
    assert t["name"] == name and [x["title"] for x in t["tasks"]] == ["Collect the mail", "Block the sender"]
    assert hive.case_template.get(name)["_id"] == t["_id"]
    assert [x["name"] for x in hive.case_template.find(filters=Eq("name", name))] == [name]
    case = hive.case.create({"title": "Invoice lure", "description": "d", "caseTemplate": name})
    assert case["title"] == "[PHISH] Invoice lure" and case["severity"] == 3
    assert sorted(x["title"] for x in hive.case.find_tasks(case["_id"])) == ["Block the sender", "Collect the mail"]
    hive.case_template.update(t["_id"], {"name": name, "severity": 4, "tasks": [{"title": "Only task"}]})
    assert hive.case_template.get(name)["severity"] == 4
    hive.case_template.delete(t["_id"])
    with pytest.raises(TheHiveError):
        hive.case_template.get(name)


def test_query_api(hive, unique):
    case = hive.case.create({"title": f"query {unique}", "description": "d", "tasks": [{"title": "A"}, {"title": "B"}]})
    hive.case.create_observable(case["_id"], {"dataType": "ip", "data": "192.0.2.200"})
    r = hive.session.make_request("POST", path="/api/v1/query", json={"query": [
        {"_name": "getCase", "idOrName": case["_id"]}, {"_name": "tasks"}, {"_name": "sort", "_fields": [{"title": "desc"}]},
        {"_name": "page", "from": 0, "to": 10, "extraData": ["total"]}]})
    assert [t["title"] for t in r] == ["B", "A"]
    assert hive.query.run([{"_name": "getCase", "idOrName": case["_id"]}, {"_name": "observables"}, {"_name": "count"}]) == 1
    paged = hive.query.run([{"_name": "listCase"}, {"_name": "filter", "_like": {"_field": "title", "_value": f"query {unique}"}},
                            {"_name": "page", "from": 0, "to": 5, "extraData": ["taskStats", "observableStats"]}])
    assert paged[0]["extraData"]["taskStats"]["total"] == 2 and paged[0]["extraData"]["observableStats"]["total"] == 1
    # A get that finds nothing is an empty list; an unknown step a 400 naming the accepted ones.
    assert hive.query.run([{"_name": "getCase", "idOrName": "no-such-case"}]) == []
    with pytest.raises(TheHiveError) as e:
        hive.query.run([{"_name": "listNothing"}])
    assert e.value.response.status_code == 400 and "listCase" in str(e.value)
    with pytest.raises(TheHiveError) as e:
        hive.query.run([{"_name": "listCase"}, {"_name": "filter", "_frobnicate": {}}])
    assert e.value.response.status_code == 400


def test_v1_and_v0_see_the_same_objects(hive, v0, unique):
    # Made in v1, read and changed in v0 ...
    case = hive.case.create({"title": f"cross {unique}", "description": "v1", "severity": 2, "status": "InProgress"})
    r = v0.get(f"{URL}/api/case/{case['_id']}")
    assert r.status_code == 200 and r.json()["title"] == f"cross {unique}" and r.json()["status"] == "Open" and r.json()["caseId"] == case["number"]
    r = v0.patch(f"{URL}/api/case/{case['_id']}", json={"status": "Resolved", "resolutionStatus": "FalsePositive", "summary": "benign"})
    assert r.status_code == 200, r.text
    got = hive.case.get(case["_id"])
    assert (got["status"], got["stage"], got["summary"]) == ("FalsePositive", "Closed", "benign")
    # ... and back: reopened in v1, Open again in v0.
    hive.case.open(case["_id"])
    assert v0.get(f"{URL}/api/case/{case['_id']}").json()["status"] == "Open"
    # An alert made in v0 is listed and promoted in v1.
    r = v0.post(f"{URL}/api/alert", json={"type": "ext", "source": f"v0-{unique}", "sourceRef": "1", "title": "From v0", "description": "d",
                                         "artifacts": [{"dataType": "ip", "data": "192.0.2.77"}]})
    assert r.status_code == 201, r.text
    found = hive.alert.find(filters=Eq("source", f"v0-{unique}"))
    assert len(found) == 1 and found[0]["observableCount"] == 1
    new_case = hive.alert.promote_to_case(found[0]["_id"])
    assert v0.get(f"{URL}/api/alert/{found[0]['_id']}").json()["case"] == new_case["_id"] or \
        v0.get(f"{URL}/api/alert/{found[0]['_id']}").json()["caseId"] == new_case["_id"]
    # Observables added in v0 are listed in v1.
    r = v0.post(f"{URL}/api/case/{case['_id']}/artifact", json={"dataType": "domain", "data": f"{unique}.v0.example"})
    assert r.status_code == 201, r.text
    assert [o["data"] for o in hive.case.find_observables(case["_id"])] == [f"{unique}.v0.example"]


def test_apply_case_template(hive, unique):
    name = f"apply-{unique}"
    hive.case_template.create({"name": name, "titlePrefix": "[RANSOM]", "severity": 4, "tags": ["ransomware"], "tlp": 3,
                               "tasks": [{"title": "Isolate"}, {"title": "Restore"}]})
    page = hive.page_template.create({"title": "Ransom note", "content": "Paste it here", "category": "Evidence"})
    cases = [hive.case.create({"title": f"Encrypted share {i}", "description": "d", "tags": ["fs"]}) for i in range(2)]
    hive.case.apply_case_template({"ids": [c["_id"] for c in cases], "caseTemplate": name, "updateTitlePrefix": True, "updateSeverity": True,
                                   "updateTags": True, "importTasks": ["Isolate"], "importPages": [page["_id"]]})
    for c in cases:
        got = hive.case.get(c["_id"])
        assert got["title"].startswith("[RANSOM] Encrypted share") and got["severity"] == 4 and set(got["tags"]) == {"fs", "ransomware"}
        assert got["tlp"] == 2  # not asked for
        assert [t["title"] for t in hive.case.find_tasks(c["_id"])] == ["Isolate"]
        assert [p["title"] for p in hive.case.find_pages(c["_id"])] == ["Ransom note"]
    # Applying again adds neither the prefix nor the task twice.
    hive.case.apply_case_template({"ids": [cases[0]["_id"]], "caseTemplate": name, "updateTitlePrefix": True, "importTasks": ["Isolate"]})
    assert hive.case.get(cases[0]["_id"])["title"].count("[RANSOM]") == 1
    assert len(hive.case.find_tasks(cases[0]["_id"])) == 1
    with pytest.raises(TheHiveError) as e:
        hive.case.apply_case_template({"ids": [cases[0]["_id"]], "caseTemplate": name, "importTasks": ["No such task"]})
    assert e.value.response.status_code == 400


def test_query_aggregation(hive, unique):
    for sev in (1, 3, 3):
        hive.case.create({"title": f"agg {unique}", "description": "d", "severity": sev})
    got = hive.query.run([{"_name": "listCase"}, {"_name": "filter", "_eq": {"_field": "title", "_value": f"agg {unique}"}},
                          {"_name": "aggregation", "_agg": "field", "_field": "severity", "_select": [{"_agg": "count"}]}])
    assert got["1"]["count"] == 1 and got["3"]["count"] == 2, got
    total = hive.query.run([{"_name": "listCase"}, {"_name": "filter", "_eq": {"_field": "title", "_value": f"agg {unique}"}},
                            {"_name": "aggregation", "_agg": "count"}])
    assert total["count"] == 3, total


def test_extra_data(hive, unique):
    case = hive.case.create({"title": f"extra {unique}", "description": "d", "tasks": [{"title": "T"}]})
    hive.case.create_observable(case["_id"], {"dataType": "domain", "data": f"{unique}.extra.example"})
    other = hive.case.create({"title": f"extra other {unique}", "description": "d"})
    hive.case.create_observable(other["_id"], {"dataType": "domain", "data": f"{unique}.extra.example"})
    alert = hive.alert.create({"type": "x", "source": f"extra-{unique}", "sourceRef": "1", "title": "t", "description": "d"})
    hive.alert.merge_into_case(alert["_id"], case["_id"])
    page = {"_name": "page", "from": 0, "to": 5}
    c = hive.query.run([{"_name": "getCase", "idOrName": case["_id"]}, {**page, "extraData": ["alerts", "isOwner", "shareCount", "permissions", "procedureCount"]}])[0]
    assert c["extraData"]["alerts"] == [{"type": "x", "source": f"extra-{unique}"}]
    assert (c["extraData"]["isOwner"], c["extraData"]["shareCount"], c["extraData"]["procedureCount"]) == (True, 0, 0)
    assert "manageCase" in c["extraData"]["permissions"]
    a = hive.query.run([{"_name": "getAlert", "idOrName": alert["_id"]}, {**page, "extraData": ["caseNumber", "importDate"]}])[0]
    assert a["extraData"]["caseNumber"] == case["number"] and isinstance(a["extraData"]["importDate"], int)
    o = hive.query.run([{"_name": "getCase", "idOrName": case["_id"]}, {"_name": "observables"}, {**page, "extraData": ["seen"]}])[0]
    assert o["extraData"]["seen"]["seen"] >= 1
    t = hive.query.run([{"_name": "getCase", "idOrName": case["_id"]}, {"_name": "tasks"}, {**page, "extraData": ["caseId", "case", "actionRequired"]}])[0]
    assert t["extraData"]["caseId"] == case["_id"] and t["extraData"]["case"]["number"] == case["number"] and t["extraData"]["actionRequired"] is False
