"""Analyzers through thehive4py 1.8.2's Cortex calls (`run_analyzer`, `get_job_status`) against
the embedded engine, with the real TestAnalyzer and EmlParser of tests/cortex-analyzers (run.sh
starts Waggle with `--analyzers` and their Python environment)."""

import os
import time

import pytest
import requests
from thehive4py.models import Case, CaseObservable

URL = os.environ["WAGGLE_URL"]
LOGIN = os.environ["WAGGLE_ADMIN_LOGIN"]
PASSWORD = os.environ["WAGGLE_ADMIN_PASSWORD"]
EML = os.environ["WAGGLE_TEST_EML"]


@pytest.fixture(scope="module")
def enabled():
    """TestAnalyzer and EmlParser enabled in soc, as an administrator does it in the UI."""
    s = requests.Session()
    assert s.post(f"{URL}/api/login", json={"user": LOGIN, "password": PASSWORD}).status_code == 200
    for definition, configuration in [("TestAnalyzer_1_0", {}), ("EmlParser_2_1", {"auto_extract_artifacts": True})]:
        r = s.post(f"{URL}/ui/analysis/enable", json={"definition": definition, "input": {"configuration": configuration}})
        assert r.status_code == 200, r.text
    return s


def wait(api, job_id):
    for _ in range(200):
        r = api.get_job_status(job_id)
        assert r.status_code == 200, r.text
        job = r.json()
        if job["status"] in ("Success", "Failure"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish")


def test_run_analyzer_on_an_observable(api, enabled):
    case = api.create_case(Case(title="thehive4py analyzers", description="run_analyzer")).json()
    obs = api.create_case_observable(case["id"], CaseObservable(dataType="domain", data="example.org", tlp=1)).json()
    obs = obs[0] if isinstance(obs, list) else obs
    r = api.run_analyzer("local", obs["id"], "TestAnalyzer_1_0")
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["analyzerId"] == "TestAnalyzer_1_0" and job["artifactId"] == obs["id"] and job["cortexId"] == "local"
    done = wait(api, job["id"])
    assert done["status"] == "Success", done
    levels = sorted(t["level"] for t in done["report"]["summary"]["taxonomies"])
    assert levels == ["info", "malicious", "safe", "suspicious"]
    observable = api.get_case_observable(obs["id"]).json()
    assert len(observable["reports"]["TestAnalyzer_1_0"]["taxonomies"]) == 4
    # A second run within the cache time answers from the cache.
    again = api.run_analyzer("local", obs["id"], "TestAnalyzer_1_0").json()
    assert again["id"] == job["id"] and again["fromCache"] is True
    # An analyzer that does not take the type, an unknown observable.
    r = api.run_analyzer("local", obs["id"], "EmlParser_2_1")
    assert r.status_code == 400, r.text
    r = api.run_analyzer("local", "nope", "TestAnalyzer_1_0")
    assert r.status_code == 404, r.text


def test_eml_parser_on_a_file_observable_returns_file_artifacts(api, enabled):
    case = api.create_case(Case(title="thehive4py eml", description="a mail")).json()
    r = api.create_case_observable(case["id"], CaseObservable(dataType="file", data=EML, message="reported mail"))
    assert r.status_code == 201, r.text
    obs = r.json()
    obs = obs[0] if isinstance(obs, list) else obs
    job = api.run_analyzer("local", obs["id"], "EmlParser_2_1").json()
    done = wait(api, job["id"])
    assert done["status"] == "Success", done
    artifacts = done["report"]["artifacts"]
    files = [a for a in artifacts if a.get("attachment")]
    assert files, artifacts
    assert files[0]["attachment"]["name"] == "invoice.exe", files
    # The extracted file can be downloaded by the organisation.
    s = enabled
    r = s.get(f"{URL}/api/datastore/{files[0]['attachment']['id']}")
    assert r.status_code == 200 and len(r.content) == files[0]["attachment"]["size"]
