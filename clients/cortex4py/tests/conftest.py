"""cortex4py 2.1.0 on the Cortex API (`/cortex/api`) of the Waggle started by run.sh, with an API
key of the first administrator (organisation administrator of `soc`, platform administrator)."""

import os

import pytest
import requests
from cortex4py.api import Api

URL = os.environ["WAGGLE_URL"]
CORTEX_URL = f"{URL}/cortex"
LOGIN = os.environ["WAGGLE_ADMIN_LOGIN"]
PASSWORD = os.environ["WAGGLE_ADMIN_PASSWORD"]


def key_for(login, password):
    """An API key for `login`, made by signing in as them (Waggle's own API)."""
    s = requests.Session()
    r = s.post(f"{URL}/api/login", json={"user": login, "password": password})
    assert r.status_code == 200, r.text
    r = s.post(f"{URL}/api/user/{login}/key/renew")
    assert r.status_code == 200, r.text
    return r.text


@pytest.fixture(scope="session")
def api_key():
    return key_for(LOGIN, PASSWORD)


@pytest.fixture(scope="session")
def api(api_key):
    return Api(CORTEX_URL, api_key)


@pytest.fixture(scope="session")
def raw(api_key):
    """Plain requests on the Cortex API, for what cortex4py has no method for."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {api_key}"
    return s


@pytest.fixture(scope="session")
def read_only_api(api_key):
    """A read-only user of soc, through cortex4py."""
    r = requests.post(
        f"{URL}/api/user",
        headers={"Authorization": f"Bearer {api_key}"},
        json={"login": "reader@soc", "name": "Reader", "profile": "read-only", "password": "reader-password-1"},
    )
    assert r.status_code == 201, r.text
    return Api(CORTEX_URL, key_for("reader@soc", "reader-password-1"))


@pytest.fixture(scope="session")
def test_analyzer(api):
    """TestAnalyzer enabled in soc (cortex4py's enable: the name is the definition's id)."""
    return api.analyzers.enable(
        "TestAnalyzer_1_0",
        {"configuration": {"throw_error": False}, "rate": 1000, "rateUnit": "Day", "jobCache": 10, "jobTimeout": 5},
    )


@pytest.fixture(scope="session")
def eml_parser(api):
    return api.analyzers.enable(
        "EmlParser_2_1",
        {"configuration": {"email_visualisation": False, "auto_extract_artifacts": True}, "jobTimeout": 5},
    )
