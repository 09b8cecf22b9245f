"""Entry point: `python -m service_common.migrate identity_service user_service jobs_service`."""

from service_common.migrations import main

if __name__ == "__main__":
    raise SystemExit(main())
