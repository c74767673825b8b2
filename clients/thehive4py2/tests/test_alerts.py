"""Alerts through thehive4py 2.1.0: create with observables, dedup, change, follow, find,
promote to a case, merge into cases, delete."""

import pytest
from thehive4py.errors import TheHiveError
from thehive4py.query.filters import Eq, In
from thehive4py.query.sort import Asc


def new_alert(unique, ref, **more):
    return {
        "type": "siem", "source": f"splunk-{unique}", "sourceRef": ref, "title": f"Beaconing {ref}", "description": "Seen by the SIEM",
        "severity": 2, "tags": ["c2"],
        "observables": [{"dataType": "ip", "data": "203.0.113.9", "ioc": True}, {"dataType": "domain", "data": ["a.example", "b.example"]}],
        **more,
    }


def test_alert_lifecycle(hive, unique):
    alert = hive.alert.create(new_alert(unique, "r1"))
    assert alert["_type"] == "Alert" and alert["type"] == "siem" and alert["sourceRef"] == "r1"
    assert alert["observableCount"] == 3 and alert["status"] == "New" and alert["stage"] == "New" and alert["follow"] is True
    # (type, source, sourceRef) is unique: a second one is a 400, as in TheHive.
    with pytest.raises(TheHiveError) as e:
        hive.alert.create(new_alert(unique, "r1"))
    assert e.value.response.status_code == 400

    assert hive.alert.get(alert["_id"])["title"] == "Beaconing r1"
    hive.alert.update(alert["_id"], {"title": "Beaconing to a known C2", "severity": 3, "tags": ["c2", "apt"]})
    got = hive.alert.get(alert["_id"])
    assert got["title"] == "Beaconing to a known C2" and got["severity"] == 3 and got["tags"] == ["c2", "apt"]
    hive.alert.unfollow(alert["_id"])
    assert hive.alert.get(alert["_id"])["follow"] is False
    hive.alert.follow(alert["_id"])
    assert hive.alert.get(alert["_id"])["follow"] is True

    obs = hive.alert.find_observables(alert["_id"], sortby=Asc("data"))
    assert [o["data"] for o in obs] == ["203.0.113.9", "a.example", "b.example"]
    added = hive.alert.create_observable(alert["_id"], {"dataType": "url", "data": "http://a.example/x"})
    assert [o["data"] for o in added] == ["http://a.example/x"]
    assert hive.observable.get(added[0]["_id"])["dataType"] == "url"
    hive.observable.update(added[0]["_id"], {"ioc": True})
    assert hive.observable.get(added[0]["_id"])["ioc"] is True
    hive.observable.delete(added[0]["_id"])
    assert len(hive.alert.find_observables(alert["_id"])) == 3

    assert hive.alert.count(filters=Eq("source", f"splunk-{unique}")) == 1
    found = hive.alert.find(filters=Eq("source", f"splunk-{unique}") & Eq("sourceRef", "r1"))
    assert [a["_id"] for a in found] == [alert["_id"]]

    case = hive.alert.promote_to_case(alert["_id"])
    assert case["_type"] == "Case" and case["title"] == "Beaconing to a known C2"
    assert {o["data"] for o in hive.case.find_observables(case["_id"])} == {"203.0.113.9", "a.example", "b.example"}
    promoted = hive.alert.get(alert["_id"])
    assert promoted["caseId"] == case["_id"] and promoted["stage"] == "Imported"


def test_merge_and_bulk(hive, unique):
    case = hive.case.create({"title": f"target {unique}", "description": "d"})
    a1 = hive.alert.create(new_alert(unique, "m1"))
    a2 = hive.alert.create(new_alert(unique, "m2", observables=[{"dataType": "ip", "data": "192.0.2.44"}]))
    a3 = hive.alert.create(new_alert(unique, "m3", observables=[{"dataType": "ip", "data": "192.0.2.45"}]))
    merged = hive.alert.merge_into_case(a1["_id"], case["_id"])
    assert merged["_id"] == case["_id"]
    merged = hive.alert.bulk_merge_into_case(case["_id"], [a2["_id"]])
    merged = hive.alert.import_into_case(a3["_id"], case["_id"])
    assert {o["data"] for o in hive.case.find_observables(case["_id"])} >= {"203.0.113.9", "192.0.2.44", "192.0.2.45"}
    for a in (a1, a2, a3):
        assert hive.alert.get(a["_id"])["caseId"] == case["_id"]

    b1 = hive.alert.create(new_alert(unique, "d1"))
    b2 = hive.alert.create(new_alert(unique, "d2"))
    hive.alert.bulk_update({"ids": [b1["_id"], b2["_id"]], "severity": 4})
    assert {hive.alert.get(b["_id"])["severity"] for b in (b1, b2)} == {4}
    hive.alert.bulk_delete(ids=[b1["_id"], b2["_id"]])
    assert hive.alert.count(filters=In("_id", [b1["_id"], b2["_id"]])) == 0
    one = hive.alert.create(new_alert(unique, "d3"))
    hive.alert.delete(one["_id"])
    with pytest.raises(TheHiveError) as e:
        hive.alert.get(one["_id"])
    assert e.value.response.status_code == 404
