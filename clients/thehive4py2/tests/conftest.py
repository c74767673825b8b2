"""A thehive4py 2.1.0 client on the Waggle started by run.sh, with an API key of the first
administrator (organisation `soc`)."""

import os
import uuid

import pytest
import requests
from thehive4py import TheHiveApi

URL = os.environ["WAGGLE_URL"]
LOGIN = os.environ["WAGGLE_ADMIN_LOGIN"]
PASSWORD = os.environ["WAGGLE_ADMIN_PASSWORD"]


@pytest.fixture(scope="session")
def api_key():
    s = requests.Session()
    r = s.post(f"{URL}/api/login", json={"user": LOGIN, "password": PASSWORD})
    assert r.status_code == 200, r.text
    r = s.post(f"{URL}/api/user/{LOGIN}/key/renew")
    assert r.status_code == 200, r.text
    return r.text


@pytest.fixture(scope="session")
def hive(api_key):
    # No retries: a 5xx must fail the test, not be sent again.
    return TheHiveApi(URL, apikey=api_key, max_retries=None)


@pytest.fixture(scope="session")
def basic_hive():
    """Basic authentication with the organisation, as thehive4py sends them."""
    return TheHiveApi(URL, username=LOGIN, password=PASSWORD, organisation="soc", max_retries=None)


@pytest.fixture(scope="session")
def v0(api_key):
    """The v0 API with the same key, for the cross-dialect tests."""
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {api_key}"
    return s


@pytest.fixture
def unique():
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def admin_hive(api_key):
    """The same key in the platform's `admin` organisation (X-Organisation)."""
    return TheHiveApi(URL, apikey=api_key, organisation="admin", max_retries=None)
