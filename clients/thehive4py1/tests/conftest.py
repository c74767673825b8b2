"""A thehive4py 1.8.2 client on the Waggle started by run.sh, with an API key of the first
administrator (organisation `soc`)."""

import os

import pytest
import requests
from thehive4py.api import TheHiveApi

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
def api(api_key):
    return TheHiveApi(URL, api_key)


@pytest.fixture(scope="session")
def basic_api():
    """Basic authentication with the organisation header, as TheHive 4 users configure it."""
    return TheHiveApi(URL, LOGIN, PASSWORD, organisation="soc")
