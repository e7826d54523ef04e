"""`python -m app`: run the service with uvicorn on $HOST:$PORT (default 0.0.0.0:8080)."""

import os

import uvicorn


def main() -> None:
    uvicorn.run(
        "app.main:app",
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8080")),
        log_level=os.environ.get("LOG_LEVEL", "info"),
        access_log=os.environ.get("ACCESS_LOG", "1") == "1",
        proxy_headers=True,
        forwarded_allow_ips=os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
        server_header=False,
        timeout_graceful_shutdown=int(os.environ.get("GRACEFUL_TIMEOUT", "10")),
    )


if __name__ == "__main__":
    main()
