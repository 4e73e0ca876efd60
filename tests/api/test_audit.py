"""/api/v1/audit/: read-only, team-scoped, admins and owners only."""

import pytest

from accounts.models import AuditLog, Role

pytestmark = pytest.mark.django_db


def test_an_admin_key_reads_its_teams_audit_rows_only(world):
    world.client.patch(f"/api/v1/charge-points/{world.cp.pk}/", {"name": "Renamed"}, format="json")
    world.their_client.patch(f"/api/v1/charge-points/{world.their_cp.pk}/", {"name": "Theirs"}, format="json")
    body = world.client.get("/api/v1/audit/?object_type=chargepoints.chargepoint").json()
    assert [(r["object_id"], r["action"], r["changes"]) for r in body["results"]] == [
        (str(world.cp.pk), "update", {"name": {"before": world.cp.name, "after": "Renamed"}})
    ]
    assert body["results"][0]["actor_label"] == "API key 'CSMS production'"
    row = AuditLog.objects.get(object_id=str(world.their_cp.pk), object_type="chargepoints.chargepoint")
    assert world.client.get(f"/api/v1/audit/{row.pk}/").status_code == 404


def test_a_viewer_key_sees_no_audit_rows(world):
    world.client.patch(f"/api/v1/charge-points/{world.cp.pk}/", {"name": "Renamed"}, format="json")
    assert world.viewer.get("/api/v1/audit/").json()["results"] == []


def test_the_audit_log_is_read_only(world):
    assert world.client.post("/api/v1/audit/", {}, format="json").status_code == 405


def test_support_sees_every_team_in_both_admin_sites(client, support_user, member_factory, world):
    world.client.patch(f"/api/v1/charge-points/{world.cp.pk}/", {"name": "Renamed"}, format="json")
    world.their_client.patch(f"/api/v1/charge-points/{world.their_cp.pk}/", {"name": "Theirs"}, format="json")
    client.force_login(support_user)
    html = client.get("/admin/accounts/auditlog/").content.decode()
    assert "Renamed" in html and "Theirs" in html
    client.force_login(member_factory(world.ours, Role.ADMIN))
    html = client.get("/operator/accounts/auditlog/").content.decode()
    assert "Renamed" in html and "Theirs" not in html
    client.force_login(member_factory(world.ours, Role.INSTALLER))
    assert client.get("/operator/accounts/auditlog/").status_code == 403


def test_a_date_with_an_offset_postgresql_refuses_is_taken_in_utc_not_a_500(world):
    # Python accepts +16:20; PostgreSQL does not. Found by schemathesis.
    response = world.client.get("/api/v1/audit/", {"created_before": "1252-08-12T12:01:51+16:20"})
    assert response.status_code == 200
