"""Comments on cases and alerts, and case pages, through thehive4py 2.1.0."""

import pytest
from thehive4py import TheHiveApi
from thehive4py.errors import TheHiveError
from thehive4py.query.filters import Eq
from thehive4py.query.sort import Asc

from conftest import URL


def test_comments(hive, unique):
    case = hive.case.create({"title": f"comments {unique}", "description": "d"})
    first = hive.comment.create_in_case(case["_id"], {"message": "Who owns this host?"})
    assert first["_type"] == "Comment" and first["createdBy"] == "admin@waggle.local" and first["isEdited"] is False
    hive.comment.create_in_case(case["_id"], {"message": "IT ops, ticket #42"})
    assert [c["message"] for c in hive.case.find_comments(case["_id"])] == ["Who owns this host?", "IT ops, ticket #42"]
    hive.comment.update(first["_id"], {"message": "Who owns host ws-042?"})
    got = hive.comment.get(first["_id"])
    assert got["message"] == "Who owns host ws-042?" and got["isEdited"] is True
    assert [c["_id"] for c in hive.comment.find(filters=Eq("message", "Who owns host ws-042?"))] == [first["_id"]]
    hive.comment.delete(first["_id"])
    with pytest.raises(TheHiveError):
        hive.comment.get(first["_id"])

    alert = hive.alert.create({"type": "t", "source": f"c-{unique}", "sourceRef": "1", "title": "a", "description": "d"})
    hive.comment.create_in_alert(alert["_id"], {"message": "Probably a false positive"})
    assert [c["message"] for c in hive.alert.find_comments(alert["_id"])] == ["Probably a false positive"]
    with pytest.raises(TheHiveError) as e:
        hive.comment.create_in_case(case["_id"], {"message": "   "})
    assert e.value.response.status_code == 400


def test_only_the_author_changes_a_comment(hive, unique):
    login = f"peer-{unique}@waggle.local"
    user = hive.user.create({"login": login, "name": "Peer", "profile": "analyst", "organisation": "soc"})
    hive.user.set_password(user["_id"], "peer-password-123")
    peer = TheHiveApi(URL, username=login, password="peer-password-123", organisation="soc", max_retries=None)
    case = hive.case.create({"title": f"authors {unique}", "description": "d"})
    mine = hive.comment.create_in_case(case["_id"], {"message": "mine"})
    with pytest.raises(TheHiveError) as e:
        peer.comment.update(mine["_id"], {"message": "yours now"})
    assert e.value.response.status_code == 403
    assert hive.comment.get(mine["_id"])["message"] == "mine"


def test_case_pages(hive, unique):
    case = hive.case.create({"title": f"pages {unique}", "description": "d"})
    p1 = hive.case.create_page(case["_id"], {"title": "Summary", "content": "# What happened\n...", "category": "Report", "order": 1})
    p0 = hive.case.create_page(case["_id"], {"title": "Scope", "content": "Hosts: ws-042", "category": "Report", "order": 0})
    assert p1["_type"] == "CasePage" and p1["category"] == "Report"
    assert [p["title"] for p in hive.case.find_pages(case["_id"])] == ["Scope", "Summary"]
    hive.case.update_page(case["_id"], p1["_id"], {"content": "# What happened\nA phishing mail."})
    pages = hive.case.find_pages(case["_id"], sortby=Asc("title"))
    assert pages[1]["content"].endswith("A phishing mail.")
    hive.case.delete_page(case["_id"], p0["_id"])
    assert [p["title"] for p in hive.case.find_pages(case["_id"])] == ["Summary"]
    with pytest.raises(TheHiveError) as e:
        hive.case.create_page(case["_id"], {"title": "No category", "content": "x"})
    assert e.value.response.status_code == 400
    # A case deleted for good takes its pages and comments with it.
    hive.comment.create_in_case(case["_id"], {"message": "bye"})
    hive.case.delete(case["_id"])
    assert hive.comment.find(filters=Eq("message", "bye")) == []


def test_page_templates(hive, unique):
    report = hive.page_template.create({"title": "Incident report", "content": "## Summary\n\n## Impact", "category": "Report", "order": 0})
    checklist = hive.page_template.create({"title": "Checklist", "content": "- [ ] contained", "category": "Runbook"})
    assert report["_type"] == "PageTemplate"
    hive.page_template.update(checklist["_id"], {"content": "- [ ] contained\n- [ ] eradicated"})
    assert hive.page_template.get(checklist["_id"])["content"].endswith("eradicated")
    assert {t["title"] for t in hive.page_template.find(filters=Eq("category", "Runbook"))} == {"Checklist"}

    name = f"with-pages-{unique}"
    ct = hive.case_template.create({"name": name, "tasks": [{"title": "Triage"}]})
    hive.case_template.link_page_templates(ct["_id"], [report["_id"], checklist["_id"]])
    assert sorted(t["title"] for t in hive.case_template.find_page_templates(ct["_id"])) == ["Checklist", "Incident report"]
    # A case from the template starts with those pages.
    case = hive.case.create({"title": "From a template with pages", "description": "d", "caseTemplate": name})
    pages = hive.case.find_pages(case["_id"])
    assert sorted(p["title"] for p in pages) == ["Checklist", "Incident report"]
    assert [p["content"] for p in pages if p["title"] == "Checklist"] == ["- [ ] contained\n- [ ] eradicated"]
    # A deleted page template is no longer linked.
    hive.page_template.delete(checklist["_id"])
    assert [t["title"] for t in hive.case_template.find_page_templates(ct["_id"])] == ["Incident report"]
