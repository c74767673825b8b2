"""Timeline events, similar observables, observable merge, file downloads and shares through
thehive4py 2.1.0."""

import io
import zipfile

import pytest
from thehive4py.errors import TheHiveError


def test_timeline_events(hive, unique):
    case = hive.case.create({"title": f"events {unique}", "description": "d"})
    e = hive.timeline.create_event(case["_id"], {"date": 1700000000000, "endDate": 1700000600000, "title": "Host reimaged", "description": "by IT"})
    assert e["_type"] == "CustomEvent" and e["title"] == "Host reimaged"
    hive.timeline.update_event(e["_id"], {"title": "Host ws-042 reimaged"})
    events = hive.timeline.get(case["_id"])["events"]
    custom = [x for x in events if x["kind"] == "CustomEvent"]
    assert len(custom) == 1 and custom[0]["details"]["title"] == "Host ws-042 reimaged" and custom[0]["endDate"] == 1700000600000
    # The custom event (2023) comes before the case's creation (now).
    assert events[0]["kind"] == "CustomEvent"
    with pytest.raises(TheHiveError) as err:
        hive.timeline.create_event(case["_id"], {"date": 2, "endDate": 1, "title": "backwards"})
    assert err.value.response.status_code == 400
    hive.timeline.delete_event(e["_id"])
    assert [x for x in hive.timeline.get(case["_id"])["events"] if x["kind"] == "CustomEvent"] == []


def test_similar_observables_and_merge(hive, unique):
    case = hive.case.create({"title": f"similar {unique}", "description": "d"})
    hive.case.create_observable(case["_id"], {"dataType": "ip", "data": ["198.18.0.1", "198.18.0.2"]})
    alert = hive.alert.create({"type": "s", "source": f"sim-{unique}", "sourceRef": "1", "title": "t", "description": "d",
                               "observables": [{"dataType": "ip", "data": ["198.18.0.2", "198.18.0.3"]}]})
    assert [o["data"] for o in hive.alert.get_similar_observables(alert["_id"], case["_id"])] == ["198.18.0.2"]
    assert [o["data"] for o in hive.case.get_similar_observables(case["_id"], alert["_id"])] == ["198.18.0.2"]
    assert hive.case.merge_similar_observables(case["_id"]) == {"untouched": 2, "updated": 0, "deleted": 0}


def test_observable_file_download(hive, unique, tmp_path):
    case = hive.case.create({"title": f"download {unique}", "description": "d"})
    sample = tmp_path / "dropper.bin"
    sample.write_bytes(b"\x00\x01 not malware " + unique.encode())
    obs = hive.observable.create_in_case(case["_id"], {"dataType": "file"}, observable_path=str(sample))[0]
    out = tmp_path / "out.bin"
    hive.observable.download_attachment(obs["_id"], obs["attachment"]["id"], str(out))
    assert out.read_bytes() == sample.read_bytes()
    zipped = tmp_path / "out.zip"
    hive.observable.download_attachment(obs["_id"], obs["attachment"]["id"], str(zipped), as_zip=True)
    with zipfile.ZipFile(io.BytesIO(zipped.read_bytes())) as z:
        assert z.read("dropper.bin", pwd=b"malware") == sample.read_bytes()
    with pytest.raises(TheHiveError) as e:
        hive.observable.download_attachment(obs["_id"], "0" * 64, str(out))
    assert e.value.response.status_code == 404


def test_shares_in_a_single_owner_model(hive, unique):
    case = hive.case.create({"title": f"shares {unique}", "description": "d"})
    task = hive.case.create_task(case["_id"], {"title": "t"})
    obs = hive.case.create_observable(case["_id"], {"dataType": "domain", "data": f"{unique}.example"})[0]
    assert hive.case.list_shares(case["_id"]) == []
    assert hive.task.list_shares(task["_id"]) == []
    assert hive.observable.list_shares(obs["_id"]) == []
    for call in (lambda: hive.case.share(case["_id"], [{"organisation": "acme", "profile": "analyst"}]),
                 lambda: hive.case.set_share(case["_id"], [{"organisation": "acme", "profile": "analyst"}]),
                 lambda: hive.task.share(task["_id"], ["acme"]),
                 lambda: hive.observable.share(obs["_id"], ["acme"])):
        with pytest.raises(TheHiveError) as e:
            call()
        assert e.value.response.status_code == 400 and "membership" in str(e.value)
    hive.case.unshare(case["_id"], ["acme"])
    with pytest.raises(TheHiveError):
        hive.case.unshare(case["_id"], ["soc"])
    hive.task.unshare(task["_id"], ["acme"])
    hive.observable.unshare(obs["_id"], ["acme"])


def test_unlink_alert(hive, unique):
    alert = hive.alert.create({"type": "s", "source": f"unlink-{unique}", "sourceRef": "1", "title": "t", "description": "d",
                               "observables": [{"dataType": "ip", "data": "198.18.1.1"}]})
    case = hive.alert.promote_to_case(alert["_id"])
    hive.case.unlink_alert(case["_id"], alert["_id"])
    back = hive.alert.get(alert["_id"])
    assert "caseId" not in back and back["status"] == "New"
    assert [o["data"] for o in hive.case.find_observables(case["_id"])] == ["198.18.1.1"]
    with pytest.raises(TheHiveError) as e:
        hive.case.unlink_alert(case["_id"], alert["_id"])
    assert e.value.response.status_code == 400


def test_organisation_links_in_a_single_owner_model(admin_hive, unique):
    a = admin_hive.organisation.create({"name": f"la-{unique}", "description": "a"})
    b = admin_hive.organisation.create({"name": f"lb-{unique}", "description": "b"})
    assert admin_hive.organisation.list_links(a["_id"]) == []
    assert admin_hive.organisation.list_sharing_profiles() == []
    with pytest.raises(TheHiveError) as e:
        admin_hive.organisation.link(a["_id"], b["_id"], {"linkType": "default", "otherLinkType": "default"})
    assert e.value.response.status_code == 400
    admin_hive.organisation.unlink(a["_id"], b["_id"])
    admin_hive.organisation.bulk_link(a["_id"], [])


def test_attachments_of_cases_alerts_and_the_organisation(hive, unique, tmp_path):
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 not really " + unique.encode())
    shot = tmp_path / "screenshot.png"
    shot.write_bytes(b"\x89PNG fake " + unique.encode())
    case = hive.case.create({"title": f"files {unique}", "description": "d"})
    added = hive.case.add_attachment(case["_id"], [str(report), str(shot)])
    assert sorted(a["name"] for a in added) == ["report.pdf", "screenshot.png"]
    listed = hive.case.find_attachments(case["_id"])
    assert len(listed) == 2 and {a["size"] for a in listed} == {report.stat().st_size, shot.stat().st_size}
    pdf = [a for a in listed if a["name"] == "report.pdf"][0]
    out = tmp_path / "back.pdf"
    hive.case.download_attachment(case["_id"], pdf["_id"], str(out))
    assert out.read_bytes() == report.read_bytes()
    hive.case.delete_attachment(case["_id"], pdf["_id"])
    assert [a["name"] for a in hive.case.find_attachments(case["_id"])] == ["screenshot.png"]

    alert = hive.alert.create({"type": "s", "source": f"files-{unique}", "sourceRef": "1", "title": "t", "description": "d"})
    hive.alert.add_attachment(alert["_id"], [str(shot)])
    got = hive.alert.find_attachments(alert["_id"])
    assert [a["name"] for a in got] == ["screenshot.png"]
    hive.alert.download_attachment(alert["_id"], got[0]["_id"], str(tmp_path / "shot.png"))
    assert (tmp_path / "shot.png").read_bytes() == shot.read_bytes()
    hive.alert.delete_attachment(alert["_id"], got[0]["_id"])
    assert hive.alert.find_attachments(alert["_id"]) == []

    org_files = hive.organisation.add_attachment([str(report)])
    assert [a["name"] for a in org_files] == ["report.pdf"]
    me = hive.user.get_current()
    soc = [o for o in me["organisations"] if o["organisation"] == "soc"][0]["organisationId"]
    assert "report.pdf" in [a["name"] for a in hive.organisation.find_attachments(soc)]
    hive.organisation.download_attachment(org_files[0]["_id"], str(tmp_path / "org.pdf"))
    assert (tmp_path / "org.pdf").read_bytes() == report.read_bytes()
    hive.organisation.delete_attachment(org_files[0]["_id"])
    assert "report.pdf" not in [a["name"] for a in hive.organisation.find_attachments(soc)]
