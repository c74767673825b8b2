"""The analysis engine through thehive4py 2.1.0's Cortex calls, with the real TestAnalyzer of
tests/cortex-analyzers (run.sh starts Waggle with `--analyzers` and their venv)."""

import time

import pytest
import requests
from thehive4py.query.filters import Eq

from conftest import LOGIN, PASSWORD, URL


@pytest.fixture(scope="module")
def enabled():
    s = requests.Session()
    assert s.post(f"{URL}/api/login", json={"user": LOGIN, "password": PASSWORD}).status_code == 200
    r = s.post(f"{URL}/ui/analysis/enable", json={"definition": "TestAnalyzer_1_0", "input": {"configuration": {}}})
    assert r.status_code == 200, r.text


def wait(hive, job_id):
    for _ in range(300):
        job = hive.cortex.get_analyzer_job(job_id)
        if job["status"] in ("Success", "Failure"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_analyzers_and_jobs(hive, enabled, unique):
    analyzers = hive.cortex.list_analyzers()
    assert "TestAnalyzer_1_0" in [a["name"] for a in analyzers]
    assert hive.cortex.get_analyzer("TestAnalyzer_1_0")["name"] == "TestAnalyzer_1_0"
    assert "TestAnalyzer_1_0" in [a["name"] for a in hive.cortex.list_analyzers_by_type("domain")]

    case = hive.case.create({"title": f"analysis {unique}", "description": "d"})
    obs = hive.case.create_observable(case["_id"], {"dataType": "domain", "data": [f"{unique}.example", f"{unique}.example.net"]})
    job = hive.cortex.create_analyzer_job({"analyzerId": "TestAnalyzer_1_0", "cortexId": "local", "artifactId": obs[0]["_id"]})
    assert job["analyzerId"] == "TestAnalyzer_1_0"
    assert wait(hive, job["id"])["status"] == "Success"
    jobs = hive.cortex.bulk_create_analyzer_jobs([{"analyzerId": "TestAnalyzer_1_0", "cortexId": "local", "artifactId": obs[1]["_id"]}])
    assert len(jobs) == 1 and wait(hive, jobs[0]["id"])["status"] == "Success"
    found = hive.cortex.find_analyzer_jobs(filters=Eq("analyzerId", "TestAnalyzer_1_0"))
    assert {job["id"], jobs[0]["id"]} <= {j["id"] for j in found}
    # The report reached the observable as a mini-report.
    assert "TestAnalyzer_1_0" in hive.observable.get(obs[0]["_id"])["reports"]
