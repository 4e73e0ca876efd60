import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_the_schema_is_openapi_3_with_every_endpoint(anon):
    response = anon.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {
        "/api/v1/teams/", "/api/v1/sites/{id}/", "/api/v1/charge-points/{id}/", "/api/v1/reports/",
        "/api/v1/reports/{id}/assign/", "/api/v1/reports/{id}/resolve/", "/api/v1/reports/{id}/reopen/",
        "/api/v1/reports/{report_id}/timeline/", "/api/v1/reports/{report_id}/messages/",
        "/api/v1/teams/{team_id}/report-settings/",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiKey"]["scheme"] == "bearer"


def test_every_operation_has_examples_and_documents_its_errors(anon):
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "429"} <= set(responses), (method, path)
            examples = [
                example
                for response in responses.values()
                for content in response.get("content", {}).values()
                for example in content.get("examples", {})
            ]
            success = [code for code in responses if code.startswith("2")]
            success_examples = [
                e for code in success for c in responses[code].get("content", {}).values()
                for e in c.get("examples", {})
            ]
            assert examples and (success_examples or method == "delete"), (method, path)


def test_swagger_ui_is_served_without_the_internet(anon):
    response = anon.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html and "unpkg" not in html
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
