"""Run with: pip install -r requirements.txt httpx pytest && pytest apps/api/tests"""

from fastapi.testclient import TestClient

from app.main import app, database_password


def test_endpoints():
    with TestClient(app) as client:
        r = client.get("/health")
        assert r.status_code == 200 and r.json() == {"status": "ok"}
        r = client.get("/ready")
        assert r.status_code == 200 and r.json()["status"] == "ready"
        r = client.get("/api/items")
        assert r.status_code == 200 and r.json()["count"] == 3
        assert client.get("/docs").status_code == 404


def test_the_database_password_comes_from_its_file_and_falls_back_to_the_env(tmp_path, monkeypatch):
    secret = tmp_path / "DATABASE_PASSWORD"
    secret.write_text("from-file\n")
    monkeypatch.setenv("DATABASE_PASSWORD", "from-env")
    assert database_password() == "from-env"
    monkeypatch.setenv("DATABASE_PASSWORD_FILE", str(secret))
    assert database_password() == "from-file"
    with TestClient(app) as client:
        assert client.get("/ready").json()["database_configured"] is True
    monkeypatch.delenv("DATABASE_PASSWORD_FILE")
    monkeypatch.delenv("DATABASE_PASSWORD")
    assert database_password() is None
