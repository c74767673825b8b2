"""User, profile, organisation and custom field administration through thehive4py 2.1.0."""

import pytest
from thehive4py import TheHiveApi
from thehive4py.errors import TheHiveError
from thehive4py.query.filters import Eq

from conftest import URL


def test_user_administration(hive, admin_hive, unique):
    login = f"ops-{unique}@waggle.local"
    user = hive.user.create({"login": login, "name": "Ops", "profile": "analyst", "organisation": "soc"})
    hive.user.update(user["_id"], {"name": "Ops Analyst", "profile": "read-only"})
    got = hive.user.get(login)
    assert got["name"] == "Ops Analyst" and got["profile"] == "read-only"

    # A password set by an administrator, then changed by the user with the old one.
    hive.user.set_password(user["_id"], "first-password-123")
    own = TheHiveApi(URL, username=login, password="first-password-123", organisation="soc", max_retries=None)
    assert own.user.get_current()["login"] == login
    own.user.change_password(login, password="second-password-456", current_password="first-password-123")
    with pytest.raises(TheHiveError) as e:
        own.user.get_current()
    assert e.value.response.status_code == 401
    again = TheHiveApi(URL, username=login, password="second-password-456", organisation="soc", max_retries=None)
    assert again.user.get_current()["login"] == login

    # Keys: renewed (text), never shown again, removed.
    key = hive.user.renew_apikey(user["_id"])
    assert isinstance(key, str) and len(key) >= 32
    assert TheHiveApi(URL, apikey=key, max_retries=None).user.get_current()["login"] == login
    with pytest.raises(TheHiveError) as e:
        hive.user.get_apikey(user["_id"])
    assert e.value.response.status_code == 404 and "renew" in str(e.value)
    hive.user.remove_apikey(user["_id"])
    with pytest.raises(TheHiveError) as e:
        TheHiveApi(URL, apikey=key, max_retries=None).user.get_current()
    assert e.value.response.status_code == 401

    # Locked users cannot sign in; unlocked they can again.
    hive.user.update(user["_id"], {"locked": True})
    assert hive.user.get(login)["locked"] is True
    with pytest.raises(TheHiveError):
        TheHiveApi(URL, username=login, password="second-password-456", organisation="soc", max_retries=None).user.get_current()
    hive.user.update(user["_id"], {"locked": False})
    assert hive.user.get(login)["locked"] is False

    # Memberships: set from the admin organisation, then removed from one.
    org = admin_hive.organisation.create({"name": f"tenant-{unique}", "description": "t"})
    orgs = admin_hive.user.set_organisations(user["_id"], [{"organisation": "soc", "profile": "analyst"}, {"organisation": org["name"], "profile": "read-only"}])
    assert {(o["organisation"], o["profile"]) for o in orgs} == {("soc", "analyst"), (org["name"], "read-only")}
    admin_hive.user.delete(user["_id"], organisation=org["name"])
    assert [o["organisation"] for o in admin_hive.user.set_organisations(user["_id"], [{"organisation": "soc", "profile": "analyst"}])] == ["soc"]


def test_organisation_update(admin_hive, unique):
    org = admin_hive.organisation.create({"name": f"rename-{unique}", "description": "before"})
    admin_hive.organisation.update(org["_id"], {"description": "after"})
    assert admin_hive.organisation.get(org["_id"])["description"] == "after"


def test_profiles(admin_hive, hive, unique):
    name = f"triage-{unique}"
    p = admin_hive.profile.create({"name": name, "permissions": ["manageAlert", "manageCase"]})
    assert p["name"] == name and p["permissions"] == ["manageAlert", "manageCase"] and p["editable"] is True
    assert admin_hive.profile.get(name)["_id"] == p["_id"]
    admin_hive.profile.update(name, {"permissions": ["manageAlert"]})
    assert admin_hive.profile.get(name)["permissions"] == ["manageAlert"]
    assert admin_hive.profile.count(filters=Eq("name", name)) == 1
    with pytest.raises(TheHiveError) as e:
        admin_hive.profile.create({"name": f"bad-{unique}", "permissions": ["flyToTheMoon"]})
    assert e.value.response.status_code == 400
    admin_hive.profile.delete(name)
    with pytest.raises(TheHiveError) as e:
        admin_hive.profile.get(name)
    assert e.value.response.status_code == 404


def test_custom_field_update_and_delete(hive, unique):
    ref = f"score-{unique}"
    hive.custom_field.create({"name": ref, "displayName": "Score", "description": "d", "type": "integer", "mandatory": False})
    hive.custom_field.update(ref, {"displayName": "Risk score", "description": "0-100"})
    f = [x for x in hive.custom_field.list() if x["name"] == ref][0]
    assert (f["displayName"], f["description"], f["type"]) == ("Risk score", "0-100", "integer")
    hive.custom_field.delete(f["_id"])
    assert ref not in [x["name"] for x in hive.custom_field.list()]
