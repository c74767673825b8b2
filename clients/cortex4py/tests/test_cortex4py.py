"""Every analyzer and job method of cortex4py 2.1.0 on Waggle's Cortex API, with the real
TestAnalyzer and EmlParser (cortexutils 2.2.1)."""

import os
import subprocess
import sys

import pytest
from cortex4py.api import Api
from cortex4py.exceptions import AuthenticationError, AuthorizationError, CortexError, InvalidInputError, NotFoundError
from cortex4py.models import Analyzer, AnalyzerDefinition, Job, JobArtifact
from cortex4py.query import And, Eq

from conftest import CORTEX_URL

PAYLOAD = b"MZ\x90\x00fake executable payload"


def test_status(api):
    status = api.status().json()
    assert status["versions"]["Cortex"].startswith("3")
    assert "key" in status["config"]["authType"]


def test_definitions(api):
    definitions = api.analyzers.definitions()
    assert all(isinstance(d, AnalyzerDefinition) for d in definitions)
    by_id = {d.id: d for d in definitions}
    assert {"TestAnalyzer_1_0", "EmlParser_2_1", "ValidateObservable_1_0"} <= set(by_id)
    test = by_id["TestAnalyzer_1_0"]
    assert test.name == "TestAnalyzer" and test.version == "1.0"
    assert "ip" in test.dataTypeList
    assert {i["name"] for i in test.configurationItems} >= {"throw_error", "some_list"}
    assert by_id["EmlParser_2_1"].dataTypeList == ["file"]


def test_enable_find_and_update(api, test_analyzer):
    assert isinstance(test_analyzer, Analyzer)
    assert test_analyzer.name == "TestAnalyzer_1_0"
    assert test_analyzer.workerDefinitionId == "TestAnalyzer_1_0"
    assert (test_analyzer.rate, test_analyzer.rateUnit, test_analyzer.jobCache) == (1000, "Day", 10)
    assert test_analyzer.configuration["some_list"] == ["item1", "item2", "item3"], "defaults filled in"

    assert api.analyzers.get_by_name("TestAnalyzer_1_0").id == test_analyzer.id
    assert api.analyzers.get_by_name("NoSuchAnalyzer") is None
    assert api.analyzers.get_by_id(test_analyzer.id).name == "TestAnalyzer_1_0"
    assert test_analyzer.id in [a.id for a in api.analyzers.get_by_type("ip")]
    assert test_analyzer.id not in [a.id for a in api.analyzers.get_by_type("file")]
    assert test_analyzer.id in [a.id for a in api.analyzers.find_all({}, range="all")]
    found = api.analyzers.find_all(And(Eq("name", "TestAnalyzer_1_0"), Eq("workerDefinitionId", "TestAnalyzer_1_0")))
    assert [a.id for a in found] == [test_analyzer.id]
    assert api.analyzers.find_one_by(Eq("name", "TestAnalyzer_1_0")).id == test_analyzer.id
    assert test_analyzer.id in [a.id for a in api.organizations.get_analyzers()]
    with pytest.warns(DeprecationWarning):
        assert test_analyzer.id in [a.id for a in api.get_analyzers("ip")]

    updated = api.analyzers.update(test_analyzer.id, {"name": "ignored by cortex4py", "jobTimeout": 6})
    assert (updated.name, updated.jobTimeout) == ("TestAnalyzer_1_0", 6)


def test_enabling_errors(api, test_analyzer):
    with pytest.raises(NotFoundError):
        api.analyzers.enable("NoSuchAnalyzer_1_0", {"configuration": {}})
    with pytest.raises(InvalidInputError):
        api.analyzers.enable("TestAnalyzer_1_0", {"configuration": {"throw_error": "not a boolean"}})
    with pytest.raises(InvalidInputError):
        # The name is taken.
        api.analyzers.enable("TestAnalyzer_1_0", {"configuration": {}})
    with pytest.raises(NotFoundError):
        api.analyzers.get_by_id("no-such-analyzer")


def test_run_by_name_and_reports(api, test_analyzer):
    job = api.analyzers.run_by_name("TestAnalyzer_1_0", {"data": "1.2.3.4", "dataType": "ip", "tlp": 1, "message": "from cortex4py"}, force=1)
    assert isinstance(job, Job)
    assert job.status in ("Waiting", "InProgress", "Success")
    assert (job.workerId, job.workerName, job.dataType, job.data, job.tlp) == (test_analyzer.id, "TestAnalyzer_1_0", "ip", "1.2.3.4", 1)
    assert job.organization == "soc"

    done = api.jobs.get_report_async(job.id, "1minute")
    assert done.status == "Success", done.report
    report = done.report
    assert report["success"] is True
    levels = [t["level"] for t in report["summary"]["taxonomies"]]
    assert levels == ["info", "safe", "suspicious", "malicious"]
    assert report["full"]["data"] == "1.2.3.4"
    assert report["full"]["unicodeTest"].startswith("こんにちは")
    assert report["artifacts"][0]["data"] == "8.8.8.8"
    assert report["operations"][0]["type"] == "AddTagToArtifact"

    assert api.jobs.get_report(job.id).report == report
    assert api.jobs.get_by_id(job.id).status == "Success"
    artifacts = api.jobs.get_artifacts(job.id)
    assert all(isinstance(a, JobArtifact) for a in artifacts)
    assert [(a.dataType, a.data, a.tags) for a in artifacts] == [("ip", "8.8.8.8", ["test"])]
    with pytest.warns(DeprecationWarning):
        assert api.get_job_report(job.id, "10seconds").status == "Success"


def test_run_by_id_cache_and_force(api, test_analyzer):
    observable = {"data": "cache.example", "dataType": "domain"}
    first = api.analyzers.run_by_id(test_analyzer.id, observable, force=1)
    api.jobs.get_report_async(first.id, "1minute")
    again = api.analyzers.run_by_id(test_analyzer.id, observable)
    assert (again.id, again.fromCache) == (first.id, True)
    forced = api.analyzers.run_by_id(test_analyzer.id, observable, force=1)
    assert forced.id != first.id
    with pytest.warns(DeprecationWarning):
        old_style = api.run_analyzer("TestAnalyzer_1_0", "domain", 2, "cache.example")
    assert old_style.id in (first.id, forced.id)


def test_a_failing_analyzer(api, raw):
    # cortex4py's enable names an analyzer after its definition; a second one needs its own name.
    r = raw.post(f"{CORTEX_URL}/api/organization/analyzer/TestAnalyzer_1_0", json={"name": "Failing", "configuration": {"throw_error": True}})
    assert r.status_code == 201, r.text
    failing = api.analyzers.get_by_name("Failing")
    assert failing.workerDefinitionId == "TestAnalyzer_1_0"
    job = api.analyzers.run_by_name("Failing", {"data": "1.2.3.4", "dataType": "ip"})
    done = api.jobs.get_report_async(job.id, "1minute")
    assert done.status == "Failure"
    assert done.report["success"] is False
    assert "throw_error" in done.report["errorMessage"]
    assert api.jobs.get_artifacts(job.id) == []
    assert api.analyzers.disable(failing.id) is True
    with pytest.raises(NotFoundError):
        api.analyzers.get_by_id(failing.id)


def test_a_file_through_eml_parser(api, raw, eml_parser, tmp_path):
    eml = tmp_path / "invoice.eml"
    subprocess.run([sys.executable, os.environ["MAKE_EML"], str(eml), "invoice.exe"], check=True)
    # cortex4py posts the file as multipart: `_json` and a part named `data`.
    job = api.analyzers.run_by_name("EmlParser_2_1", {"data": str(eml), "dataType": "file", "tlp": 2})
    assert job.dataType == "file"
    assert job.attachment["name"] == "invoice.eml"
    assert job.attachment["contentType"] == "message/rfc822"

    done = api.jobs.get_report_async(job.id, "2minutes")
    assert done.status == "Success", done.report
    assert done.report["full"]["headers"]["subject"] == ["Your invoice"]
    taxonomies = {(t["predicate"], str(t["value"])) for t in done.report["summary"]["taxonomies"]}
    assert ("Attachments", "1") in taxonomies

    artifacts = api.jobs.get_artifacts(job.id)
    kinds = {a.dataType for a in artifacts}
    assert {"url", "ip", "mail", "domain", "hash", "file"} <= kinds, kinds
    attached = next(a for a in artifacts if a.dataType == "file")
    assert attached.attachment["name"] == "invoice.exe"
    r = raw.get(f"{CORTEX_URL}/api/datastore/{attached.attachment['id']}")
    assert r.status_code == 200 and r.content == PAYLOAD
    # The e-mail itself is the organisation's too.
    r = raw.get(f"{CORTEX_URL}/api/datastore/{job.attachment['id']}", params={"name": "copy.eml"})
    assert r.status_code == 200 and r.content == eml.read_bytes()
    assert "copy.eml" in r.headers["content-disposition"]


def test_job_search_statuses_and_deletion(api, raw, test_analyzer):
    job = api.analyzers.run_by_id(test_analyzer.id, {"data": "search.example", "dataType": "domain"}, force=1)
    api.jobs.get_report_async(job.id, "1minute")
    mine = api.jobs.find_all(Eq("workerId", test_analyzer.id), range="all", sort="-createdAt")
    assert mine[0].id == job.id
    assert all(j.workerId == test_analyzer.id for j in mine)
    assert api.jobs.find_one_by(Eq("data", "search.example")).id == job.id
    r = raw.post(f"{CORTEX_URL}/api/job/status", json={"jobIds": [job.id, "no-such-job"]})
    assert r.status_code == 200 and r.json() == {job.id: "Success"}

    assert api.jobs.delete(job.id) is True
    assert api.jobs.get_by_id(job.id).status == "Deleted"
    assert job.id not in [j.id for j in api.jobs.find_all({}, range="all")]
    with pytest.raises(NotFoundError):
        api.jobs.get_by_id("no-such-job")
    with pytest.raises(NotFoundError):
        api.jobs.get_report("no-such-job")


def test_roles_and_credentials(api, raw, read_only_api, test_analyzer):
    # A read-only user sees the analyzers and their jobs, and runs nothing.
    assert test_analyzer.id in [a.id for a in read_only_api.analyzers.find_all({})]
    with pytest.raises(AuthorizationError):
        read_only_api.analyzers.run_by_id(test_analyzer.id, {"data": "1.1.1.1", "dataType": "ip"})
    with pytest.raises(AuthorizationError):
        read_only_api.analyzers.enable("ValidateObservable_1_0", {"configuration": {}})
    with pytest.raises(AuthorizationError):
        read_only_api.analyzers.disable(test_analyzer.id)
    with pytest.raises(AuthenticationError):
        Api(CORTEX_URL, "not-a-key").analyzers.find_all({})
    with pytest.raises(CortexError):
        api.analyzers.run_by_name("NoSuchAnalyzer", {"data": "1.1.1.1", "dataType": "ip"})
    with pytest.raises(InvalidInputError):
        # TestAnalyzer does not take files' types.
        api.analyzers.run_by_id(test_analyzer.id, {"data": "x", "dataType": "registry"})
    me = raw.get(f"{CORTEX_URL}/api/user/current").json()
    assert me["roles"] == ["read", "analyze", "orgadmin", "superadmin"]
