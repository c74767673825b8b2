"""Cases, tasks, task logs and case observables through thehive4py 2.1.0."""

import pytest
from thehive4py.errors import TheHiveError
from thehive4py.query.filters import Between, Eq, Gte, In, Like, Match, StartsWith
from thehive4py.query.page import Paginate
from thehive4py.query.sort import Asc, Desc


def test_case_create_get_update_and_statuses(hive, unique):
    case = hive.case.create({"title": f"Phishing {unique}", "description": "Reported by a user", "severity": 3, "tags": ["phishing"], "status": "New"})
    assert case["_type"] == "Case" and case["_id"] and not case["_id"].isdigit()
    assert case["number"] >= 1 and case["status"] == "New" and case["stage"] == "New"
    assert case["severity"] == 3 and case["severityLabel"] == "HIGH" and case["tlp"] == 2 and case["tlpLabel"] == "AMBER"
    assert case["_createdBy"] == "admin@waggle.local" and isinstance(case["_createdAt"], int)
    assert case["extraData"] == {} and case["customFields"] == []

    # By id and by number.
    assert hive.case.get(case["_id"])["title"] == f"Phishing {unique}"
    assert hive.case.get(case["number"])["_id"] == case["_id"]

    hive.case.update(case["_id"], {"title": f"Phishing campaign {unique}", "addTags": ["mail"], "severity": 4})
    got = hive.case.get(case["_id"])
    assert got["title"] == f"Phishing campaign {unique}" and got["severity"] == 4 and set(got["tags"]) == {"phishing", "mail"}
    assert got["_updatedBy"] == "admin@waggle.local"

    hive.case.update(case["_id"], fields={"status": "InProgress"})
    assert hive.case.get(case["_id"])["status"] == "InProgress"
    assert hive.case.count(filters=Eq("status", "InProgress") & Eq("title", f"Phishing campaign {unique}")) == 1

    hive.case.close(case["_id"], "TruePositive", "Blocked the sender", impact_status="WithImpact")
    closed = hive.case.get(case["_id"])
    assert (closed["status"], closed["stage"], closed["impactStatus"], closed["summary"]) == ("TruePositive", "Closed", "WithImpact", "Blocked the sender")
    assert "endDate" in closed

    hive.case.open(case["_id"])
    assert hive.case.get(case["_id"])["status"] == "InProgress"

    with pytest.raises(TheHiveError) as e:
        hive.case.update(case["_id"], {"status": "Sleeping"})
    assert e.value.response.status_code == 400

    hive.case.delete(case["_id"])
    with pytest.raises(TheHiveError) as e:
        hive.case.get(case["_id"])
    assert e.value.response.status_code == 404


def test_case_find_count_sort_page(hive, unique):
    ids = [hive.case.create({"title": f"find {unique} {i}", "description": "d", "severity": 1 + i % 4})["_id"] for i in range(6)]
    found = hive.case.find(filters=Like("title", f"find {unique}*"), sortby=Asc("severity") & Desc("_createdAt"), paginate=Paginate(start=0, end=4))
    assert len(found) == 4
    assert [c["severity"] for c in found] == sorted(c["severity"] for c in found)
    assert hive.case.count(filters=StartsWith("title", f"find {unique}")) == 6
    assert hive.case.count(filters=Match("title", unique) & Gte("severity", 3)) == 2
    assert hive.case.count(filters=In("_id", ids[:2])) == 2
    everything = hive.case.find(filters=Between("severity", 1, 3) & StartsWith("title", f"find {unique}"))
    assert sorted(c["severity"] for c in everything) == [1, 1, 2, 2]
    # An unknown field is the client's mistake: 400, never 500.
    with pytest.raises(TheHiveError) as e:
        hive.case.find(filters=Eq("noSuchField", 1))
    assert e.value.response.status_code == 400


def test_custom_fields_on_cases(hive, unique):
    ref = f"business-unit-{unique}"
    field = hive.custom_field.create({"name": ref, "displayName": "Business unit", "description": "Who is hit", "type": "string", "mandatory": False, "options": []})
    assert field["name"] == ref and field["type"] == "string"
    assert ref in [f["name"] for f in hive.custom_field.list()]
    case = hive.case.create({"title": f"cf {unique}", "description": "d", "customFields": {ref: "Finance"}})
    assert [{k: v for k, v in f.items() if k != "_id"} for f in case["customFields"]] == [{"name": ref, "type": "string", "value": "Finance", "order": 0}]
    hive.case.update(case["_id"], {"customFields": [{"name": ref, "value": "Legal"}]})
    assert hive.case.get(case["_id"])["customFields"][0]["value"] == "Legal"
    with pytest.raises(TheHiveError):
        hive.case.update(case["_id"], {"customFields": {ref: 42}})
    # A value is removed by its _id.
    hive.case.delete_custom_field(hive.case.get(case["_id"])["customFields"][0]["_id"])
    assert hive.case.get(case["_id"])["customFields"] == []
    with pytest.raises(TheHiveError) as e:
        hive.case.delete_custom_field(f"{case['_id']}~{ref}")
    assert e.value.response.status_code == 404


def test_tasks_and_logs(hive, unique, tmp_path):
    case = hive.case.create({"title": f"tasks {unique}", "description": "d", "tasks": [{"title": "Triage", "group": "first"}]})
    task = hive.case.create_task(case["_id"], {"title": "Contain", "description": "Block the IOCs", "assignee": "admin@waggle.local"})
    assert task["_type"] == "Task" and task["status"] == "Waiting" and task["assignee"] == "admin@waggle.local"
    tasks = hive.case.find_tasks(case["_id"], sortby=Asc("title"))
    assert [t["title"] for t in tasks] == ["Contain", "Triage"]
    assert hive.task.get(task["_id"])["title"] == "Contain"

    hive.task.update(task["_id"], {"status": "InProgress", "flag": True})
    got = hive.task.get(task["_id"])
    assert got["status"] == "InProgress" and got["flag"] is True
    assert hive.task.count(filters=Eq("status", "InProgress") & Eq("title", "Contain")) >= 1
    hive.task.bulk_update({"ids": [t["_id"] for t in tasks], "group": "response"})
    assert {t["group"] for t in hive.case.find_tasks(case["_id"])} == {"response"}

    log = hive.task.create_log(task["_id"], {"message": "Blocked **evil.com** at the proxy"})
    assert log["_type"] == "Log" and log["message"].startswith("Blocked") and log["owner"] == "admin@waggle.local"
    report = tmp_path / "proxy.txt"
    report.write_text("blocked evil.com\n")
    with_file = hive.task_log.create(task["_id"], {"message": "The proxy log", "attachments": [str(report)]})
    assert with_file["attachments"][0]["name"] == "proxy.txt" and with_file["attachments"][0]["size"] == len("blocked evil.com\n")
    logs = hive.task.find_logs(task["_id"], sortby=Asc("_createdAt"))
    assert [l["message"] for l in logs] == ["Blocked **evil.com** at the proxy", "The proxy log"]
    assert hive.task_log.get(log["_id"])["message"].startswith("Blocked")
    hive.task_log.update(log["_id"], {"message": "Blocked evil.com (edited)"})
    assert hive.task_log.get(log["_id"])["message"] == "Blocked evil.com (edited)"
    hive.task_log.delete(with_file["_id"])
    assert len(hive.task.find_logs(task["_id"])) == 1

    hive.task.delete(tasks[1]["_id"])
    assert len(hive.case.find_tasks(case["_id"])) == 1


def test_case_observables(hive, unique, tmp_path):
    case = hive.case.create({"title": f"obs {unique}", "description": "d"})
    created = hive.case.create_observable(case["_id"], {"dataType": "ip", "data": ["198.51.100.7", "198.51.100.8"], "ioc": True, "tags": ["c2"], "message": "beacon"})
    assert len(created) == 2 and {o["data"] for o in created} == {"198.51.100.7", "198.51.100.8"}
    assert created[0]["_type"] == "Observable" and created[0]["ioc"] is True and created[0]["tlp"] == 2
    one = hive.observable.create_in_case(case["_id"], {"dataType": "domain", "data": f"{unique}.example"})
    assert one[0]["dataType"] == "domain"
    sample = tmp_path / "invoice.exe"
    sample.write_bytes(b"MZ not really a program")
    files = hive.observable.create_in_case(case["_id"], {"dataType": "file", "message": "attachment"}, observable_path=str(sample))
    assert files[0]["attachment"]["name"] == "invoice.exe" and "data" not in files[0]

    # The same value again: refused (400 CreateError), nothing duplicated.
    with pytest.raises(TheHiveError) as e:
        hive.case.create_observable(case["_id"], {"dataType": "ip", "data": "198.51.100.7"})
    assert e.value.response.status_code == 400

    obs = hive.case.find_observables(case["_id"], filters=Eq("dataType", "ip"), sortby=Asc("data"))
    assert [o["data"] for o in obs] == ["198.51.100.7", "198.51.100.8"]
    assert hive.observable.count(filters=Eq("data", f"{unique}.example")) == 1
    assert hive.observable.get(one[0]["_id"])["data"] == f"{unique}.example"
    hive.observable.update(one[0]["_id"], {"ioc": True, "sighted": True, "tags": ["seen"]})
    got = hive.observable.get(one[0]["_id"])
    assert got["ioc"] is True and got["sighted"] is True and got["tags"] == ["seen"]
    hive.observable.bulk_update({"ids": [o["_id"] for o in obs], "tlp": 3})
    assert {o["tlp"] for o in hive.case.find_observables(case["_id"], filters=Eq("dataType", "ip"))} == {3}
    hive.observable.delete(one[0]["_id"])
    assert hive.observable.count(filters=Eq("data", f"{unique}.example")) == 0


def test_merge_and_bulk_update_cases(hive, unique):
    a = hive.case.create({"title": f"merge a {unique}", "description": "first", "severity": 1})
    b = hive.case.create({"title": f"merge b {unique}", "description": "second", "severity": 3})
    hive.case.bulk_update({"ids": [a["_id"], b["_id"]], "flag": True})
    assert hive.case.get(a["_id"])["flag"] and hive.case.get(b["_id"])["flag"]
    merged = hive.case.merge([a["_id"], b["_id"]])
    assert merged["severity"] == 3 and f"merge a {unique}" in merged["title"] and f"merge b {unique}" in merged["title"]


def test_timeline(hive, unique):
    case = hive.case.create({"title": f"timeline {unique}", "description": "d"})
    task = hive.case.create_task(case["_id"], {"title": "Look"})
    hive.task.update(task["_id"], {"status": "InProgress"})
    events = hive.timeline.get(case["_id"])["events"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "CaseCreation" and "TaskCreation" in kinds and "TaskUpdate" in kinds
    assert all(isinstance(e["date"], int) and e["entityId"] for e in events)
    assert [e["date"] for e in events] == sorted(e["date"] for e in events)


def test_log_attachments(hive, unique, tmp_path):
    case = hive.case.create({"title": f"log files {unique}", "description": "d"})
    task = hive.case.create_task(case["_id"], {"title": "Collect"})
    log = hive.task.create_log(task["_id"], {"message": "Memory dumps attached"})
    a, b = tmp_path / "mem1.raw", tmp_path / "mem2.raw"
    a.write_bytes(b"dump one " + unique.encode())
    b.write_bytes(b"dump two " + unique.encode())
    hive.task_log.add_attachments(log["_id"], [str(a), str(b)])
    got = hive.task_log.get(log["_id"])
    assert sorted(x["name"] for x in got["attachments"]) == ["mem1.raw", "mem2.raw"]
    first = [x for x in got["attachments"] if x["name"] == "mem1.raw"][0]
    hive.task_log.delete_attachment(log["_id"], first["_id"])
    assert [x["name"] for x in hive.task_log.get(log["_id"])["attachments"]] == ["mem2.raw"]


def test_declared_links(hive, unique):
    a = hive.case.create({"title": f"link a {unique}", "description": "d"})
    b = hive.case.create({"title": f"link b {unique}", "description": "d"})
    hive.case.link_case(a["_id"], {"type": "related", "caseId": b["_id"]})
    hive.case.link_url(a["_id"], {"type": "ticket", "url": "https://tickets.example/INC-42"})
    linked = hive.case.get_linked_cases(a["_id"])
    assert [(c["_id"], c["linkType"], c["linksCount"]) for c in linked] == [(b["_id"], "related", 0)]
    assert hive.case.get(a["_id"])["externalLinks"] == [{"type": "ticket", "url": "https://tickets.example/INC-42"}]
    assert {"related", "ticket"} <= set(hive.case.get_link_types())
    with pytest.raises(TheHiveError) as e:
        hive.case.link_url(a["_id"], {"type": "ticket", "url": "javascript:alert(1)"})
    assert e.value.response.status_code == 400
    with pytest.raises(TheHiveError) as e:
        hive.case.link_case(a["_id"], {"type": "related", "caseId": a["_id"]})
    assert e.value.response.status_code == 400
    hive.case.delete_case_link(a["_id"], {"type": "related", "caseId": b["_id"]})
    hive.case.delete_url_link(a["_id"], {"type": "ticket", "url": "https://tickets.example/INC-42"})
    assert hive.case.get_linked_cases(a["_id"]) == []
    assert "externalLinks" not in hive.case.get(a["_id"])


def test_task_action_required(hive, unique):
    case = hive.case.create({"title": f"actions {unique}", "description": "d"})
    task = hive.case.create_task(case["_id"], {"title": "Patch the VPN"})
    assert hive.task.get_required_actions(task["_id"]) == {"soc": False}
    hive.task.set_as_required(task["_id"], "soc")
    assert hive.task.get_required_actions(task["_id"]) == {"soc": True}
    hive.task.set_as_done(task["_id"], "soc")
    assert hive.task.get_required_actions(task["_id"]) == {"soc": False}
    with pytest.raises(TheHiveError) as e:
        hive.task.set_as_required(task["_id"], "acme")
    assert e.value.response.status_code == 400
