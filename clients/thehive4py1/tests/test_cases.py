"""thehive4py 1.8.2 against Waggle: every method it has for cases, tasks, task logs,
observables (values and files), case templates, custom fields, and its query helpers. Each
call's result is asserted, the way a script relying on it would."""

import io
import json
import os
import uuid
import zipfile

import pytest
from thehive4py.models import (
    Case,
    CaseObservable,
    CaseTask,
    CaseTaskLog,
    CaseTemplate,
    CustomField,
    CustomFieldHelper,
)
from thehive4py.query import (
    And,
    Between,
    Child,
    Contains,
    ContainsString,
    EndsWith,
    Eq,
    Gt,
    Gte,
    Id,
    In,
    Like,
    Lt,
    Lte,
    Not,
    Or,
    Parent,
    ParentId,
    StartsWith,
    String,
    Type,
)


def unique(prefix):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def ok(r, status=(200, 201)):
    assert r.status_code in status, f"{r.status_code}: {r.text}"
    return r.json() if r.text else None


def test_health_and_current_user(api, basic_api):
    r = api.health()
    assert r.status_code == 200 and r.text == "Ok"
    me = ok(api.get_current_user())
    assert me["login"] == "admin@waggle.local"
    assert "write" in me["roles"]
    assert ok(basic_api.get_current_user())["organisation"] == "soc"


def test_case_lifecycle(api):
    title = unique("Phishing campaign")
    fields = CustomFieldHelper().add_string("reporter", "finance desk").add_boolean("external", True).build()
    case = Case(
        title=title,
        description="Several users got the same invoice lure",
        tlp=3,
        pap=1,
        severity=3,
        flag=True,
        tags=["phishing", "invoice"],
        customFields=fields,
        tasks=[CaseTask(title="Collect headers", group="Identification"), CaseTask(title="Block sender")],
    )
    created = ok(api.create_case(case), (201,))
    cid = created["id"]
    assert created["title"] == title
    assert (created["tlp"], created["pap"], created["severity"], created["flag"]) == (3, 1, 3, True)
    assert created["tags"] == ["phishing", "invoice"]
    assert created["customFields"]["reporter"]["string"] == "finance desk"
    assert created["customFields"]["external"]["boolean"] is True
    assert created["status"] == "Open" and created["owner"] == "admin@waggle.local"

    fetched = ok(api.get_case(cid))
    assert fetched["caseId"] == created["caseId"]

    # The CaseHelper: api.case(id), api.case.create(...), api.case.update(...).
    helper_case = api.case(cid)
    assert helper_case.title == title and helper_case.caseId == created["caseId"] and helper_case.status == "Open"
    other = api.case.create(unique("Helper made"), "via CaseHelper.create", severity=1, tags=["helper"])
    assert other.severity == 1 and other.tags == ["helper"]
    updated = api.case.update(other.id, severity=4, summary="escalated")
    assert updated.severity == 4

    # update_case with the object (all updatable fields) and with a field list.
    helper_case.description = "Updated description"
    helper_case.tags = ["phishing", "invoice", "reviewed"]
    r = ok(api.update_case(helper_case))
    assert r["description"] == "Updated description" and "reviewed" in r["tags"]
    helper_case.severity = 4
    helper_case.title = "must not change"
    r = ok(api.update_case(helper_case, fields=["severity"]))
    assert r["severity"] == 4 and r["title"] == title

    # Tasks given at creation.
    tasks = ok(api.get_case_tasks(cid))
    assert sorted(t["title"] for t in tasks) == ["Block sender", "Collect headers"]
    assert {t["group"] for t in tasks} == {"Identification", "default"}

    # Close: status Resolved with its resolution, open tasks closed.
    closed = ok(api.do_patch(f"/api/case/{cid}", status="Resolved", resolutionStatus="TruePositive", impactStatus="NoImpact", summary="Blocked"))
    assert closed["status"] == "Resolved" and closed["endDate"]
    assert all(t["status"] in ("Completed", "Cancel") for t in ok(api.get_case_tasks(cid)))

    # Soft delete keeps the case readable; force removes it.
    r = api.delete_case(other.id)
    assert r.status_code == 204
    assert ok(api.get_case(other.id))["status"] == "Deleted"
    r = api.delete_case(other.id, force=True)
    assert r.status_code == 204
    assert api.get_case(other.id).status_code == 404


def test_case_errors_are_theHive_errors(api):
    r = api.create_case(Case(title="No description"))
    assert r.status_code == 400 and r.json()["type"] == "AttributeCheckingError"
    r = api.create_case(Case(title="Bad TLP", description="d", tlp=7))
    assert r.status_code == 400 and r.json()["type"] == "AttributeCheckingError"
    r = api.create_case(Case(title="Missing template", description="d", template="No such template"))
    assert r.status_code == 404 and r.json()["type"] == "NotFoundError"
    r = api.find_cases(query={"_nope": 1})
    assert r.status_code == 400 and r.json()["type"] == "SearchError" and "_nope" in r.json()["message"]


def test_tasks(api):
    case = ok(api.create_case(Case(title=unique("Tasks"), description="d")), (201,))
    task = ok(api.create_case_task(case["id"], CaseTask(title="Contain host", description="Isolate it", flag=True, group="Containment")), (201,))
    assert task["status"] == "Waiting" and task["flag"] is True and task["group"] == "Containment"
    got = ok(api.get_case_task(task["id"]))
    assert got["title"] == "Contain host"

    # update_case_task with the object and with a field list (thehive4py says `owner`).
    obj = CaseTask(json=got)
    obj.id = got["id"]
    obj.status = "InProgress"
    obj.owner = "admin@waggle.local"
    r = ok(api.update_case_task(obj))
    assert r["status"] == "InProgress" and r["owner"] == "admin@waggle.local" and r["startDate"]
    obj.title = "Contain and image host"
    obj.description = "not sent"
    r = ok(api.update_case_task(obj, fields=["title"]))
    assert r["title"] == "Contain and image host" and r["description"] == "Isolate it"

    found = ok(api.find_tasks(query=And(Eq("status", "InProgress"), ParentId("case", case["id"]))))
    assert [t["id"] for t in found] == [task["id"]]
    with_case = ok(api.find_tasks(query=Eq("title", "Contain and image host"), nparent=1))
    assert with_case[0]["case"]["id"] == case["id"]

    # delete_case_task cancels it.
    r = ok(api.delete_case_task(task["id"]))
    assert r["status"] == "Cancel" and r["endDate"]


def test_task_logs_with_attachments(api, tmp_path):
    case = ok(api.create_case(Case(title=unique("Logs"), description="d")), (201,))
    task = ok(api.create_case_task(case["id"], CaseTask(title="Analyse")), (201,))
    log = ok(api.create_task_log(task["id"], CaseTaskLog(message="Looked at the **headers**")), (201,))
    assert log["message"] == "Looked at the **headers**"
    assert ok(api.get_case_task(task["id"]))["status"] == "InProgress", "a log starts a waiting task"

    report = tmp_path / "report.txt"
    report.write_bytes(b"Sender: bad@example.org\nSPF: fail\n")
    with_file = ok(api.create_task_log(task["id"], CaseTaskLog(message="Report attached", file=str(report))), (201,))
    att = with_file["attachment"]
    assert att["name"] == "report.txt" and att["size"] == len(report.read_bytes()) and att["contentType"] == "text/plain"
    assert att["id"] == att["hashes"][0]

    assert ok(api.get_task_log(with_file["id"]))["id"] == with_file["id"]
    logs = ok(api.get_task_logs(task["id"]))
    assert {l["id"] for l in logs} == {log["id"], with_file["id"]}
    found = ok(api.find_task_logs(query=Like("message", "*headers*")))
    assert log["id"] in [l["id"] for l in found]

    r = api.download_task_log_attachment(with_file["id"])
    assert r.status_code == 200 and r.content == report.read_bytes()
    assert "attachment" in r.headers["Content-Disposition"] and r.headers["X-Content-Type-Options"] == "nosniff"
    r = api.download_task_log_attachment(with_file["id"], archive=True)
    assert r.status_code == 200
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        [name] = z.namelist()
        assert z.read(name, pwd=b"malware") == report.read_bytes()


def test_observables(api, tmp_path):
    case = ok(api.create_case(Case(title=unique("Observables"), description="d")), (201,))
    cid = case["id"]
    ip = ok(api.create_case_observable(cid, CaseObservable(dataType="ip", data="198.51.100.23", message="C2", tlp=1, ioc=True, tags=["c2"])), (201,))
    assert (ip["dataType"], ip["data"], ip["ioc"], ip["sighted"], ip["tlp"]) == ("ip", "198.51.100.23", True, False, 1)
    for dt, value in [("domain", "bad.example"), ("url", "https://bad.example/login"), ("autonomous-system", "AS64500"), ("mail", "bad@example.org")]:
        ok(api.create_case_observable(cid, CaseObservable(dataType=dt, data=value, message=dt)), (201,))
    # The same value again is a conflict.
    r = api.create_case_observable(cid, CaseObservable(dataType="ip", data="198.51.100.23", message="again"))
    assert r.status_code == 400 and r.json()["type"] == "ConflictError"

    sample = tmp_path / "dropper.bin"
    sample.write_bytes(b"MZ\x90\x00" + os.urandom(256))
    files = ok(api.create_case_observable(cid, CaseObservable(dataType="file", data=str(sample), message="dropper", tlp=2, ioc=True)), (201,))
    assert isinstance(files, list) and files[0]["attachment"]["name"] == "dropper.bin"
    file_obs = files[0]

    got = ok(api.get_case_observable(ip["id"]))
    assert got["data"] == "198.51.100.23"
    listed = ok(api.get_case_observables(cid))
    assert len(listed) == 6
    iocs = ok(api.get_case_observables(cid, query=Eq("ioc", True)))
    assert {o["id"] for o in iocs} == {ip["id"], file_obs["id"]}
    found = ok(api.find_observables(query=And(Eq("dataType", "ip"), Eq("data", "198.51.100.23"))))
    assert [o["id"] for o in found] == [ip["id"]]

    obj = CaseObservable(json=got)
    obj.sighted = True
    obj.message = "Seen on the proxy"
    obj.tags = ["c2", "proxy"]
    r = ok(api.update_case_observable(ip["id"], obj))
    assert r["sighted"] is True and r["message"] == "Seen on the proxy" and r["tags"] == ["c2", "proxy"]
    obj.id = ip["id"]
    obj.tlp = 3
    r = ok(api.update_case_observables(obj, fields=["tlp"]))
    assert r["tlp"] == 3 and r["message"] == "Seen on the proxy"

    r = api.download_observable_attachment(file_obs["id"])
    with zipfile.ZipFile(io.BytesIO(r.content)) as z:
        assert z.read(z.namelist()[0], pwd=b"malware") == sample.read_bytes()
    r = api.download_attachment(file_obs["attachment"]["id"], filename="dropper.bin")
    assert r.content == sample.read_bytes()
    assert 'filename="dropper.bin"' in r.headers["Content-Disposition"]

    r = api.delete_case_observable(ip["id"])
    assert r.status_code == 204
    assert api.get_case_observable(ip["id"]).status_code == 404


def test_linked_cases(api):
    value = f"{uuid.uuid4().hex[:10]}.example"
    a = ok(api.create_case(Case(title=unique("Link A"), description="d")), (201,))
    b = ok(api.create_case(Case(title=unique("Link B"), description="d")), (201,))
    for c in (a, b):
        ok(api.create_case_observable(c["id"], CaseObservable(dataType="domain", data=value, message="shared")), (201,))
    links = ok(api.get_linked_cases(a["id"]))
    assert [l["id"] for l in links] == [b["id"]]
    assert links[0]["linkedWith"][0]["data"] == value


def test_case_templates(api):
    name = unique("Malware triage")
    tpl = CaseTemplate(
        name=name,
        titlePrefix="[MAL]",
        description="Malware found on a host",
        severity=3,
        tlp=2,
        tags=["malware"],
        metrics={},
        customFields={},
        tasks=[CaseTask(title="Isolate", group="Containment"), CaseTask(title="Collect sample", group="Analysis")],
    )
    created = ok(api.create_case_template(tpl), (201,))
    assert created["name"] == name and len(created["tasks"]) == 2
    got = api.get_case_template(name)
    assert got["titlePrefix"] == "[MAL]" and got["status"] == "Ok"
    listed = ok(api.find_case_templates(query=Eq("status", "Ok")))
    assert name in [t["name"] for t in listed]

    case = ok(api.create_case(Case(title="Laptop 42", description="EDR alert", template=name, tags=["edr"])), (201,))
    assert case["title"] == "[MAL] Laptop 42"
    # thehive4py always sends severity 2: values given on the case win over the template's.
    assert case["tags"] == ["malware", "edr"] and case["severity"] == 2
    assert sorted(t["title"] for t in ok(api.get_case_tasks(case["id"]))) == ["Collect sample", "Isolate"]


def test_the_thehive3_template_files_import_unchanged(api):
    folder = os.environ["TEMPLATE_FIXTURES"]
    for file in sorted(os.listdir(folder)):
        with open(os.path.join(folder, file), "rb") as f:
            content = json.load(f)
        # A fresh name, the rest exactly as exported by TheHive 3.
        content["name"] = f"{content['name']} {uuid.uuid4().hex[:6]}"
        created = ok(api.create_case_template(CaseTemplate(json=content)), (201,))
        assert len(created["tasks"]) == len(content["tasks"]), file
        assert api.get_case_template(content["name"])["id"] == created["id"]


def test_custom_fields(api):
    ref = f"team{uuid.uuid4().hex[:6]}"
    r = api.create_custom_field(CustomField(name=ref, type="string", description="Owning team", options=["Red", "Blue"], mandatory=False))
    assert r.status_code == 201, r.text
    assert api._check_if_custom_field_exists(CustomField(name=ref)) is True
    with pytest.raises(Exception, match="already exists"):
        api.create_custom_field(CustomField(name=ref, type="string"))
    fields = CustomFieldHelper().add_string(ref, "Blue").build()
    case = ok(api.create_case(Case(title=unique("With team"), description="d", customFields=fields)), (201,))
    assert case["customFields"][ref]["string"] == "Blue"
    bad = CustomFieldHelper().add_string(ref, "Green").build()
    r = api.create_case(Case(title="Wrong option", description="d", customFields=bad))
    assert r.status_code == 400 and r.json()["type"] == "AttributeCheckingError"
    found = ok(api.find_cases(query=Eq(f"customFields.{ref}.string", "Blue")))
    assert [c["id"] for c in found] == [case["id"]]


def test_query_helpers(api):
    tag = uuid.uuid4().hex[:8]
    made = {}
    for title, sev, tlp in [("Qry alpha phishing", 1, 0), ("Qry beta ransomware", 4, 3), ("Qry gamma phishing", 2, 2)]:
        made[title] = ok(api.create_case(Case(title=title, description=f"{title} desc", severity=sev, tlp=tlp, tags=[tag])), (201,))
    beta = made["Qry beta ransomware"]
    ok(api.create_case_observable(beta["id"], CaseObservable(dataType="hash", data=tag * 4, ioc=True, message="h")), (201,))
    mine = Eq("tags", tag)

    def titles(query, **kw):
        return sorted(c["title"] for c in ok(api.find_cases(query=And(mine, query), **kw)))

    assert titles(Eq("severity", 4)) == ["Qry beta ransomware"]
    assert titles(Gt("severity", 1)) == ["Qry beta ransomware", "Qry gamma phishing"]
    assert titles(Gte("severity", 2)) == ["Qry beta ransomware", "Qry gamma phishing"]
    assert titles(Lt("severity", 2)) == ["Qry alpha phishing"]
    assert titles(Lte("tlp", 2)) == ["Qry alpha phishing", "Qry gamma phishing"]
    assert titles(Between("severity", 1, 3)) == ["Qry alpha phishing", "Qry gamma phishing"]
    assert titles(In("severity", [1, 4])) == ["Qry alpha phishing", "Qry beta ransomware"]
    assert titles(Or(Eq("severity", 1), Eq("tlp", 3))) == ["Qry alpha phishing", "Qry beta ransomware"]
    assert titles(Not(Eq("severity", 1))) == ["Qry beta ransomware", "Qry gamma phishing"]
    assert titles(Contains("title")) == sorted(made)
    assert titles(Id(beta["id"])) == ["Qry beta ransomware"]
    assert titles(Like("title", "*phishing*")) == ["Qry alpha phishing", "Qry gamma phishing"]
    assert titles(StartsWith("title", "Qry gamma")) == ["Qry gamma phishing"]
    assert titles(EndsWith("title", "ransomware")) == ["Qry beta ransomware"]
    assert titles(ContainsString("title", "alpha")) == ["Qry alpha phishing"]
    assert titles(String("title:ransomware")) == ["Qry beta ransomware"]
    assert titles(Type("case")) == sorted(made)
    assert titles(Child("case_artifact", And(Eq("dataType", "hash"), Eq("ioc", True)))) == ["Qry beta ransomware"]
    obs = ok(api.find_observables(query=Parent("case", And(Eq("tags", tag), Eq("severity", 4)))))
    assert [o["data"] for o in obs] == [tag * 4]
    # Sort and range.
    ordered = ok(api.find_cases(query=mine, sort=["-severity"], range="0-2"))
    assert [c["title"] for c in ordered] == ["Qry beta ransomware", "Qry gamma phishing"]
    first = api.find_first(query=mine, sort=["+severity"])
    assert first["title"] == "Qry alpha phishing"
    r = api.find_cases(query=mine, range="0-1")
    assert r.headers["X-Total"] == "3" and len(r.json()) == 1
