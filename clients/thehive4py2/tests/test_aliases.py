"""The client methods that reach routes other tests cover under another name (thehive4py has
several ways to one endpoint): each is called once here so every served method is exercised."""

import pytest
from thehive4py.errors import TheHiveError
from thehive4py.query.filters import Eq

from test_procedures import patterns  # noqa: F401  (the ATT&CK import fixture)


def test_aliases(hive, patterns, unique, tmp_path):  # noqa: F811
    case = hive.case.create({"title": f"aliases {unique}", "description": "d"})
    task = hive.task.create(case["_id"], {"title": "Aliased"})
    assert [t["_id"] for t in hive.task.find(filters=Eq("title", "Aliased") & Eq("_id", task["_id"]))] == [task["_id"]]
    assert hive.case.get_timeline(case["_id"])["events"][0]["kind"] == "CaseCreation"
    p = hive.case.create_procedure(case["_id"], {"patternId": "T1566", "occurDate": 1700000000000})
    assert p["patternId"] == "T1566"
    with pytest.raises(TheHiveError) as e:
        hive.case.remove_share("no-such-share")
    assert e.value.response.status_code == 404

    alert = hive.alert.create({"type": "s", "source": f"alias-{unique}", "sourceRef": "1", "title": "t", "description": "d"})
    obs = hive.observable.create_in_alert(alert["_id"], {"dataType": "ip", "data": "198.19.0.1"})
    assert [o["data"] for o in obs] == ["198.19.0.1"]
    # listObservable lists case observables; an alert's are listed through the alert.
    assert hive.observable.find(filters=Eq("data", "198.19.0.1")) == []
    case_obs = hive.case.create_observable(case["_id"], {"dataType": "ip", "data": "198.19.0.2"})
    assert [o["_id"] for o in hive.observable.find(filters=Eq("data", "198.19.0.2"))] == [case_obs[0]["_id"]]
    assert hive.procedure.create_in_alert(alert["_id"], {"patternId": "T1059", "occurDate": 1})["tactic"] == "execution"
    assert len(hive.procedure.bulk_create_in_alert(alert["_id"], [{"patternId": "T1566", "occurDate": 2}])) == 1

    log = hive.task.create_log(task["_id"], {"message": "one file"})
    f = tmp_path / "note.txt"
    f.write_text("note")
    hive.task_log.add_attachment(log["_id"], [str(f)])
    assert [a["name"] for a in hive.task_log.get(log["_id"])["attachments"]] == ["note.txt"]

    user = hive.user.create({"login": f"alias-{unique}@waggle.local", "name": "Alias", "profile": "read-only"})
    with pytest.warns(DeprecationWarning):
        hive.user.lock(user["_id"])
    assert hive.user.get(user["_id"])["locked"] is True
    with pytest.warns(DeprecationWarning):
        hive.user.unlock(user["_id"])
    assert hive.user.get(user["_id"])["locked"] is False
