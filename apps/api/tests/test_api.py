"""Run with: pip install -r requirements.txt httpx pytest && pytest apps/api/tests"""

from fastapi.testclient import TestClient

from app.main import app


def test_endpoints():
    with TestClient(app) as client:
        r = client.get("/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        r = client.get("/ready")
        assert r.status_code == 200 and r.json()["status"] == "ready"
        r = client.get("/api/items")
        assert r.status_code == 200 and r.json()["count"] == 3
        assert client.get("/docs").status_code == 404
